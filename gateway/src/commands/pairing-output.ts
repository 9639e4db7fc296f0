/**
 * How `camgw viewer add` and the first `camgw run` show a viewer's
 * credentials, once: the pairing links (this computer's plain HTTP page, and
 * the HTTPS page for the LAN), that link as a QR code for a phone, and the
 * certificate's fingerprint so a person can check the browser's warning
 * about a self-signed certificate.
 */
import { hostname } from "node:os";
import qrcode from "qrcode-terminal";
import type { NewViewer } from "../auth/account-store.js";
import { pairingLink } from "../auth/pairing-link.js";
import { type TlsMaterial } from "../auth/tls-material.js";
import { lanAddresses } from "../lan-addresses.js";
import type { Config } from "../config.js";

export interface PairingPlaces {
  /** The plain page on this machine, e.g. http://127.0.0.1:8080/ (a secure context too). */
  local: string;
  /** The HTTPS page on the LAN, e.g. https://192.168.1.20:8443/ */
  lan: string;
  /** SHA-256 fingerprint of the HTTPS certificate. */
  fingerprint: string;
  /** Whether the certificate is camgw's own self-signed one (browsers warn about it). */
  selfSigned: boolean;
}

/** The JSON `camgw viewer add --json` prints: one object. */
export interface PairingJson {
  name: string;
  username: string;
  password: string;
  token: string;
  /** The pairing link for a phone or another computer (HTTPS, LAN). */
  url: string;
  /** The pairing link for a browser on this machine. */
  localUrl: string;
  fingerprint: string;
}

export function pairingJson(viewer: NewViewer, places: PairingPlaces): PairingJson {
  return {
    name: viewer.name,
    username: viewer.username,
    password: viewer.password,
    token: viewer.token,
    url: pairingLink(places.lan, viewer),
    localUrl: pairingLink(places.local, viewer),
    fingerprint: places.fingerprint,
  };
}

/** `text` as a QR code of terminal half blocks (light modules on a dark background). */
export function qrText(text: string): string {
  let out = "";
  qrcode.generate(text, { small: true }, (qr) => {
    out = qr;
  });
  return out;
}

/** The lines a person reads: links, QR code, fingerprint. Shown once: they hold the secrets. */
export function formatPairing(viewer: NewViewer, places: PairingPlaces): string {
  const json = pairingJson(viewer, places);
  const lines = [
    `  On this computer, open:  ${json.localUrl}`,
    `  On a phone or another computer on this network, open or scan:`,
    `    ${json.url}`,
    "",
    ...qrText(json.url)
      .split("\n")
      .map((l) => `    ${l}`),
    "",
  ];
  if (places.selfSigned) {
    lines.push(
      "  The HTTPS page uses camgw's own certificate, so the browser warns once. Go on only if",
      "  the certificate's SHA-256 fingerprint it shows is:",
    );
  } else {
    lines.push("  HTTPS certificate SHA-256 fingerprint:");
  }
  lines.push(
    `    ${places.fingerprint}`,
    "",
    `  MQTT login (other apps): username ${viewer.username}, password ${viewer.password}`,
    `  HTTP bearer token: ${viewer.token}`,
    "  These links log in as this viewer: keep them like a password. They are not shown again;",
    "  `camgw viewer add NAME` makes another viewer, `camgw viewer remove NAME` shuts one out.",
  );
  return lines.join("\n") + "\n";
}

/**
 * Where the pages are, as config says (for commands run beside the gateway,
 * which may not be running): the plain page on loopback, the HTTPS page on
 * the first LAN address when the gateway listens on all of them.
 */
export function placesFromConfig(
  config: Pick<Config, "listen" | "http-port" | "https-port" | "allow-plain-lan">,
  tls: Pick<TlsMaterial, "fingerprint" | "origin">,
): PairingPlaces {
  const plain =
    config["allow-plain-lan"] && config.listen !== "0.0.0.0" ? config.listen : "127.0.0.1";
  const lan = config.listen === "0.0.0.0" ? (lanAddresses()[0] ?? hostname()) : config.listen;
  const host = (a: string): string => (a.includes(":") ? `[${a}]` : a);
  return {
    local: `http://${host(plain)}:${config["http-port"]}/`,
    lan: `https://${host(lan)}:${config["https-port"]}/`,
    fingerprint: tls.fingerprint,
    selfSigned: tls.origin === "self-signed",
  };
}
