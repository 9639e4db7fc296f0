/**
 * Keyboard shortcuts: S stats panel, F full screen, P snapshot, M sound on/off. Ignored
 * while typing in a field and with modifier keys (browser shortcuts win).
 */
export type KeyAction = "stats" | "fullscreen" | "snapshot" | "sound";

const KEYS: Readonly<Record<string, KeyAction>> = {
  s: "stats",
  f: "fullscreen",
  p: "snapshot",
  m: "sound",
};

export interface KeyLike {
  readonly key: string;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly altKey: boolean;
  readonly target: EventTarget | null;
}

function isTyping(target: EventTarget | null): boolean {
  if (typeof HTMLElement === "undefined" || !(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

export function keyAction(event: KeyLike): KeyAction | undefined {
  if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return undefined;
  return KEYS[event.key.toLowerCase()];
}
