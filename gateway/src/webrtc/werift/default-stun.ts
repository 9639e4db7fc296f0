import type { RTCPeerConnection } from "werift";
import type { IceConfig } from "../ice-config.js";

/**
 * werift 0.24.4 workaround, docs/werift.md "Default STUN server".
 *
 * packages/ice/src/ice.ts, Connection constructor: `this.stunServer =
 * validateAddress(stunServer) ?? ["stun.l.google.com", 19302]`, so with
 * `iceServers: []` every ICE transport still queries Google's STUN server,
 * and setLocalDescription waits for that (DNS and a 5 s timeout on an
 * offline LAN) before ICE checks even start; it would also tell a third
 * party that a camera is watched. Clear it on every transport unless a STUN
 * server was configured. Call after each step that may create transports
 * (addTransceiver, setRemoteDescription) and before setLocalDescription,
 * which starts gathering.
 */
export function clearDefaultStunServer(pc: RTCPeerConnection, ice: IceConfig): void {
  const hasStun = (ice.iceServers ?? []).some((s) =>
    (Array.isArray(s.urls) ? s.urls : [s.urls]).some((u) => /^stuns?:/i.test(u)),
  );
  if (hasStun) return;
  for (const transport of pc.iceTransports) transport.connection.stunServer = undefined;
}
