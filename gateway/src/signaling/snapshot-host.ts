/**
 * What the dispatcher needs to answer `snapshot` requests (docs/signaling.md,
 * "Snapshots"): a JPEG of a stream's next frame that fits a reply. The app
 * provides it (snapshot/signaling-snapshots.ts); signaling/ knows nothing of
 * cameras or the addon.
 */
export interface SignalingSnapshot {
  jpeg: Uint8Array;
  width: number;
  height: number;
  /** When the frame was captured, ms since the Unix epoch. */
  capturedAtMs: number;
}

export interface SnapshotHost {
  /**
   * A JPEG of at most MAX_SNAPSHOT_JPEG_BYTES. Rejects with a SignalingError
   * whose code the viewer is told (bad-request, unsupported, busy); anything
   * else is answered `internal`.
   */
  snapshot(request: {
    viewerId: string;
    stream: string;
    width?: number;
  }): Promise<SignalingSnapshot>;
}
