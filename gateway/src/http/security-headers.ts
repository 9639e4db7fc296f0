/**
 * Headers every response of the gateway carries. The viewer is one origin's
 * own script and stylesheet; it connects to MQTT over WebSocket (its own
 * /mqtt, or a broker the person configured, so any ws:/wss: host) and plays
 * WebRTC (not governed by CSP). No other site may frame it
 * (clickjacking), and no URL of it leaks through a Referer.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self' ws: wss:",
    // MQTT.js (worker-timers) keeps its keepalive timer in a Blob worker.
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; "),
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  // Two-way audio will ask for the microphone from this page only.
  "permissions-policy": "camera=(), geolocation=(), microphone=(self)",
};
