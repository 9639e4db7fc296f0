/**
 * The login the page shows before any camera when it has no stored login:
 * paste a pairing link (what `camgw viewer add` prints), or type a viewer's
 * name and password. Opening the pairing link itself logs in without it
 * (app.ts reads the link's fragment).
 */
import { parsePairing, type PairingCredentials } from "../../gateway/src/auth/pairing-link.js";
import { h } from "./dom.js";

export type Login = Pick<PairingCredentials, "username" | "password"> & { token?: string };

export class LoginView {
  readonly root: HTMLElement;
  readonly #link: HTMLInputElement;
  readonly #username: HTMLInputElement;
  readonly #password: HTMLInputElement;
  readonly #error: HTMLElement;

  constructor(onLogin: (login: Login) => void) {
    const field = (label: string, input: HTMLInputElement): HTMLElement =>
      h("label", {}, h("span", {}, label), input);
    this.#link = h("input", { name: "pairing", spellcheck: "false", autocomplete: "off" });
    this.#username = h("input", { name: "username", autocomplete: "username" });
    this.#password = h("input", {
      name: "password",
      type: "password",
      autocomplete: "current-password",
    });
    this.#error = h("p", { class: "form-error", role: "alert" });
    const form = h(
      "form",
      { class: "login-form" },
      field("Pairing link", this.#link),
      h("p", { class: "hint" }, "or"),
      field("Viewer name", this.#username),
      field("Viewer password", this.#password),
      this.#error,
      h("button", { type: "submit" }, "Log in"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const login = this.#read();
      if (typeof login === "string") {
        this.#error.textContent = login;
        return;
      }
      this.#error.textContent = "";
      this.#link.value = "";
      this.#password.value = "";
      onLogin(login);
    });
    this.root = h(
      "section",
      { class: "login", "aria-label": "Log in", hidden: true },
      h("h2", {}, "Log in to watch"),
      h(
        "p",
        { class: "hint" },
        "Open the pairing link that “camgw viewer add NAME” printed on the camera, or paste it here. " +
          "A viewer's name and MQTT password work too.",
      ),
      form,
    );
  }

  /** Shows the form, with why (a refused login) when there is a reason. */
  show(reason?: string, username?: string): void {
    this.#error.textContent = reason ?? "";
    if (username !== undefined) this.#username.value = username;
    this.root.hidden = false;
    this.#link.focus();
  }

  hide(): void {
    this.root.hidden = true;
  }

  /** The login typed or pasted, or what is wrong with it. */
  #read(): Login | string {
    const link = this.#link.value.trim();
    if (link !== "") {
      const paired = parsePairing(link);
      return (
        paired ?? "That is not a pairing link: copy the whole link “camgw viewer add” printed."
      );
    }
    const username = this.#username.value.trim();
    const password = this.#password.value;
    if (username === "" || password === "")
      return "Paste a pairing link, or give a name and a password.";
    return { username, password };
  }
}
