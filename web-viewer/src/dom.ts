/** A tiny element builder: the page has a handful of elements, no framework needed. */
export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Readonly<Record<string, string | boolean | undefined>> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

/** A button that never submits a form by accident. */
export function button(
  label: string,
  attrs: Readonly<Record<string, string | boolean | undefined>> = {},
): HTMLButtonElement {
  return h("button", { type: "button", ...attrs }, label);
}
