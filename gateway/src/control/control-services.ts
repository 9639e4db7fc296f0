/**
 * What the control channel acts on, as interfaces: the shared stream
 * (bitrate, size), snapshots, the per-session view, the policy from config,
 * and the way to the user's program. The gateway wires the real ones
 * (app.ts); control/ itself imports neither werift nor config.
 */

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** The stream every viewer of the camera shares. */
export interface StreamControl {
  current(): { width: number; height: number; fps: number; bitrateKbps: number };
  /** Live, for every viewer. */
  setBitrate(kbps: number): void;
  /** Restarts the capture pipeline at the new size; viewers get a key frame with the new SPS. */
  setSize(size: Size): Promise<void>;
  /** False where the source cannot change size (a pipe command). */
  readonly canResize: boolean;
}

/** A JPEG of the current picture (the addon's libjpeg-turbo encoder, once it exists). */
export interface SnapshotProvider {
  snapshot(): Promise<{ mime: string; data: Uint8Array }>;
}

/** One viewer session as the control channel sees it. */
export interface SessionView {
  readonly viewerId: string;
  readonly session: string;
  /** Ask for an IDR for this stream (merged and rate-limited with PLI/FIR). */
  requestKeyFrame(): void;
  /** This session's figures: senders, negotiation, transport. */
  stats(): Record<string, unknown>;
}

/** What config allows over the control channel. */
export interface ControlPolicy {
  /** Bitrates a viewer may set; null: none. */
  readonly bitrate: { readonly min: number; readonly max: number } | null;
  /** Sizes a viewer may switch to (the current one is always fine). */
  readonly sizes: readonly Size[];
  /** Viewer ids that may exchange `app` messages; "*" lets every viewer. */
  readonly appViewers: readonly string[];
}

export const CLOSED_POLICY: ControlPolicy = { bitrate: null, sizes: [], appViewers: [] };

export function appAllowed(policy: ControlPolicy, viewerId: string): boolean {
  return policy.appViewers.includes("*") || policy.appViewers.includes(viewerId);
}

/** The user's program behind the app socket (control/app-bridge.ts). */
export interface AppProgram {
  /** Programs connected now. */
  readonly connected: number;
  /** A viewer's `app` data to every connected program. */
  fromViewer(viewerId: string, session: string, data: unknown): void;
  /** A permitted viewer's channel opened or closed. */
  viewerJoined(viewerId: string, session: string): void;
  viewerLeft(viewerId: string, session: string): void;
}
