/**
 * The broker settings form: URL, username, password, topic prefix, and
 * whether to remember them on this browser.
 */
import { isValidPrefix } from "../../gateway/src/signaling/messages.js";
import { h } from "./dom.js";
import { brokerUrlProblem } from "./query.js";
import type { BrokerSettings } from "./settings.js";

export class BrokerForm {
  readonly root: HTMLDetailsElement;
  readonly #form: HTMLFormElement;
  readonly #url: HTMLInputElement;
  readonly #username: HTMLInputElement;
  readonly #password: HTMLInputElement;
  readonly #prefix: HTMLInputElement;
  readonly #remember: HTMLInputElement;
  readonly #error: HTMLElement;

  constructor(onApply: (settings: BrokerSettings, remember: boolean) => void) {
    const field = (label: string, input: HTMLInputElement): HTMLElement =>
      h("label", {}, h("span", {}, label), input);
    this.#url = h("input", {
      name: "url",
      type: "url",
      required: true,
      spellcheck: "false",
      autocomplete: "url",
    });
    this.#username = h("input", { name: "username", autocomplete: "username" });
    this.#password = h("input", {
      name: "password",
      type: "password",
      autocomplete: "current-password",
    });
    this.#prefix = h("input", { name: "prefix", required: true, spellcheck: "false" });
    this.#remember = h("input", { name: "remember", type: "checkbox", checked: true });
    this.#error = h("p", { class: "form-error", role: "alert" });
    this.#form = h(
      "form",
      { class: "broker-form" },
      field("Broker URL (ws:// or wss://)", this.#url),
      field("Username", this.#username),
      field("Password", this.#password),
      field("Topic prefix", this.#prefix),
      h("label", { class: "check" }, this.#remember, h("span", {}, "Remember on this browser")),
      this.#error,
      h("button", { type: "submit" }, "Connect"),
    );
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      const settings: BrokerSettings = {
        url: this.#url.value.trim(),
        username: this.#username.value,
        password: this.#password.value,
        prefix: this.#prefix.value.trim(),
      };
      const problem = validateSettings(settings);
      this.#error.textContent = problem ?? "";
      if (problem === undefined) {
        this.root.open = false;
        onApply(settings, this.#remember.checked);
      }
    });
    this.root = h(
      "details",
      { class: "settings" },
      h("summary", {}, "Broker settings"),
      this.#form,
    );
  }

  show(settings: BrokerSettings): void {
    this.#url.value = settings.url;
    this.#username.value = settings.username;
    this.#password.value = settings.password;
    this.#prefix.value = settings.prefix;
  }
}

export function validateSettings(settings: BrokerSettings): string | undefined {
  const urlProblem = brokerUrlProblem(settings.url);
  if (urlProblem !== undefined) return urlProblem;
  if (!isValidPrefix(settings.prefix))
    return "the topic prefix must be levels of A-Z a-z 0-9 _ - joined by /";
  return undefined;
}
