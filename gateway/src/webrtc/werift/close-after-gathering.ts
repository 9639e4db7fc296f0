import type { RTCPeerConnection } from "werift";

/**
 * werift 0.24.4 workaround, docs/werift.md "Close after gathering".
 *
 * RTCPeerConnection.close() during gathering closes the sockets bound so
 * far, and gathering then binds the rest and leaks them (packages/ice/src/
 * ice.ts: Connection.close empties `protocols`, getCandidatePromises pushes
 * to it afterwards). So a peer connection is closed only once its
 * gathering (the setLocalDescription promise) has settled.
 */
export async function closeAfterGathering(
  pc: RTCPeerConnection | undefined,
  gathering: Promise<void> | undefined,
): Promise<void> {
  await gathering;
  await pc?.close().catch(() => undefined);
}
