import { KeyedRateLimiter } from "../signaling/rate-limit.js";
import {
  MAX_CONTROL_MESSAGE,
  SNAPSHOT_CHUNK,
  parseControlRequest,
  type ControlErrorCode,
  type ControlReply,
  type ControlRequest,
  type RequestId,
} from "./control-messages.js";
import {
  appAllowed,
  type AppProgram,
  type ControlPolicy,
  type SessionView,
  type SnapshotProvider,
  type StreamControl,
} from "./control-services.js";

/**
 * One viewer's control channel (docs/control.md): each text message is a
 * request, checked (control-messages.ts), rate-limited, and answered on
 * the same channel; `app` data goes to the user's program and back. Bad
 * input gets an error reply and changes nothing; nothing a viewer sends
 * can throw out of receive().
 */

/** The channel as the session needs it (a werift RTCDataChannel behind it, webrtc/data-channel.ts). */
export interface ControlLink {
  send(text: string): void;
  /** Bytes queued and not yet sent. */
  readonly bufferedAmount: number;
}

export interface ControlServices {
  readonly stream: StreamControl;
  readonly policy: ControlPolicy;
  readonly snapshots?: SnapshotProvider | undefined;
  readonly app?: AppProgram | undefined;
}

export interface ControlSessionStats {
  requests: number;
  errors: number;
  /** Replies and notices not sent: the error budget, a full send queue, or a closed channel. */
  dropped: number;
  appIn: number;
  appOut: number;
}

/** Requests: a burst of 20, then 10 a second (a UI's clicks and a stats poll fit easily). */
const REQUEST_LIMIT = { burst: 20, perSecond: 10 };
/** Error replies: a burst of 10, then 5 a second; beyond that they are dropped and counted. */
const ERROR_LIMIT = { burst: 10, perSecond: 5 };
/** Past this much unsent data, notices and app messages to the viewer are dropped. */
const MAX_BUFFERED = 256 * 1024;

export class ControlSession {
  readonly stats: ControlSessionStats = { requests: 0, errors: 0, dropped: 0, appIn: 0, appOut: 0 };
  private readonly requests = new KeyedRateLimiter(REQUEST_LIMIT);
  private readonly errors = new KeyedRateLimiter(ERROR_LIMIT);
  private resizing = false;
  private closed = false;

  constructor(
    private readonly link: ControlLink,
    readonly view: SessionView,
    private readonly services: ControlServices,
  ) {}

  /** May this session exchange `app` messages? */
  get appAllowed(): boolean {
    return appAllowed(this.services.policy, this.view.viewerId);
  }

  /** One message from the viewer. */
  receive(message: string | Uint8Array): void {
    if (this.closed) return;
    this.stats.requests++;
    const parsed = parseControlRequest(message);
    if (!parsed.ok) {
      this.sendError(parsed.error.id, parsed.error.code, parsed.error.message);
      return;
    }
    const request = parsed.request;
    if (!this.requests.take("requests")) {
      this.sendError(request.id, "rate-limited", "too many control messages; slow down");
      return;
    }
    this.handle(request).catch((err: unknown) => {
      this.sendError(request.id, "failed", err instanceof Error ? err.message : String(err));
    });
  }

  /** `app` data from the user's program for this viewer. */
  deliverApp(data: unknown): boolean {
    if (this.closed || !this.appAllowed) return false;
    const sent = this.trySend({ type: "app", data }, true);
    if (sent) this.stats.appOut++;
    return sent;
  }

  /** Tells the viewer its talk-back is not heard: another viewer holds the floor. */
  talkBusy(): void {
    this.trySend({ type: "talk", state: "busy", holder: "another viewer" }, true);
  }

  close(): void {
    this.closed = true;
  }

  private async handle(request: ControlRequest): Promise<void> {
    const { id } = request;
    switch (request.type) {
      case "ping":
        this.reply({ ...withId(id), type: "pong", ts: Date.now() });
        return;
      case "keyframe":
        this.view.requestKeyFrame();
        this.reply({ ...withId(id), type: "ok", request: "keyframe" });
        return;
      case "stats":
        this.reply({
          ...withId(id),
          type: "stats",
          stats: { ...this.view.stats(), stream: this.services.stream.current() },
        });
        return;
      case "bitrate":
        this.setBitrate(id, request.kbps);
        return;
      case "resolution":
        await this.setSize(id, request.width, request.height);
        return;
      case "snapshot":
        await this.snapshot(id);
        return;
      case "app":
        this.toProgram(id, request.data);
        return;
    }
  }

  private setBitrate(id: RequestId | undefined, kbps: number): void {
    const range = this.services.policy.bitrate;
    if (!range) {
      this.sendError(id, "forbidden", "this camera does not let viewers set the bitrate");
      return;
    }
    if (kbps < range.min || kbps > range.max) {
      this.sendError(id, "out-of-range", `bitrate must be ${range.min}-${range.max} kbit/s`);
      return;
    }
    this.services.stream.setBitrate(kbps);
    this.reply({ ...withId(id), type: "ok", request: "bitrate", kbps });
  }

  private async setSize(id: RequestId | undefined, width: number, height: number): Promise<void> {
    const { stream, policy } = this.services;
    const now = stream.current();
    if (now.width === width && now.height === height) {
      this.reply({ ...withId(id), type: "ok", request: "resolution", width, height });
      return;
    }
    if (!stream.canResize || policy.sizes.length === 0) {
      this.sendError(id, "forbidden", "this camera does not let viewers change the size");
      return;
    }
    if (!policy.sizes.some((s) => s.width === width && s.height === height)) {
      const sizes = policy.sizes.map((s) => `${s.width}x${s.height}`).join(", ");
      this.sendError(id, "out-of-range", `sizes allowed: ${sizes}`);
      return;
    }
    if (this.resizing) {
      this.sendError(id, "busy", "a size change is under way");
      return;
    }
    this.resizing = true;
    try {
      await stream.setSize({ width, height });
      this.reply({ ...withId(id), type: "ok", request: "resolution", width, height });
    } finally {
      this.resizing = false;
    }
  }

  private async snapshot(id: RequestId | undefined): Promise<void> {
    const provider = this.services.snapshots;
    if (!provider) {
      this.sendError(
        id,
        "unavailable",
        "snapshots need the addon's JPEG encoder, which this build does not have yet",
      );
      return;
    }
    const { mime, data } = await provider.snapshot();
    const chunks = Math.ceil(data.length / SNAPSHOT_CHUNK);
    this.reply({ ...withId(id), type: "snapshot", mime, size: data.length, chunks });
    for (let seq = 0; seq < chunks; seq++) {
      const part = data.subarray(seq * SNAPSHOT_CHUNK, (seq + 1) * SNAPSHOT_CHUNK);
      this.reply({
        ...withId(id),
        type: "snapshot-chunk",
        seq,
        data: Buffer.from(part).toString("base64"),
      });
    }
  }

  private toProgram(id: RequestId | undefined, data: unknown): void {
    const app = this.services.app;
    if (!this.appAllowed) {
      this.sendError(id, "forbidden", "this viewer may not send app messages");
      return;
    }
    if (!app || app.connected === 0) {
      this.sendError(id, "unavailable", "no program is connected to the app socket");
      return;
    }
    app.fromViewer(this.view.viewerId, this.view.session, data);
    this.stats.appIn++;
    this.reply({ ...withId(id), type: "ok", request: "app" });
  }

  private reply(reply: ControlReply): void {
    this.trySend(reply, false);
  }

  private sendError(id: RequestId | undefined, code: ControlErrorCode, message: string): void {
    this.stats.errors++;
    // A flood of junk must not make the device flood back.
    if (!this.errors.take("errors")) {
      this.stats.dropped++;
      return;
    }
    this.trySend({ ...withId(id), type: "error", code, message }, false);
  }

  /** Sends one message; `optional` ones are dropped when the viewer is not reading. */
  private trySend(message: ControlReply, optional: boolean): boolean {
    if (this.closed || (optional && this.link.bufferedAmount > MAX_BUFFERED)) {
      this.stats.dropped++;
      return false;
    }
    const text = JSON.stringify(message);
    if (Buffer.byteLength(text) > MAX_CONTROL_MESSAGE) {
      this.stats.dropped++;
      return false;
    }
    try {
      this.link.send(text);
      return true;
    } catch {
      // The channel closed under us: nothing to tell.
      this.stats.dropped++;
      return false;
    }
  }
}

function withId(id: RequestId | undefined): { id?: RequestId } {
  return id === undefined ? {} : { id };
}
