import type { AppBridge, ProgramMessage } from "./app-bridge.js";
import type {
  ControlPolicy,
  SessionView,
  SnapshotProvider,
  StreamControl,
} from "./control-services.js";
import { ControlSession, type ControlLink, type ControlSessionStats } from "./control-session.js";

/**
 * Every open control channel of the gateway, and the app socket between
 * them and the user's program: a program's message goes to the session it
 * names or to every permitted one; a permitted viewer's channel opening
 * and closing is announced to the program.
 */

export interface ControlHubOptions {
  stream: StreamControl;
  policy: ControlPolicy;
  snapshots?: SnapshotProvider | undefined;
  app?: AppBridge | undefined;
}

export interface ControlHubStats extends ControlSessionStats {
  channels: number;
}

export class ControlHub {
  private readonly sessions = new Set<ControlSession>();
  private readonly past: ControlSessionStats = {
    requests: 0,
    errors: 0,
    dropped: 0,
    appIn: 0,
    appOut: 0,
  };
  private closed = false;

  constructor(private readonly options: ControlHubOptions) {
    options.app?.on("message", (message, delivered) => delivered(this.fromProgram(message)));
  }

  get stats(): ControlHubStats {
    const total = { ...this.past, channels: this.sessions.size };
    for (const s of this.sessions) {
      for (const k of Object.keys(this.past) as (keyof ControlSessionStats)[])
        total[k] += s.stats[k];
    }
    return total;
  }

  /** A viewer's control channel opened. */
  open(link: ControlLink, view: SessionView): ControlSession {
    const session = new ControlSession(link, view, {
      stream: this.options.stream,
      policy: this.options.policy,
      snapshots: this.options.snapshots,
      app: this.options.app,
    });
    if (this.closed) {
      session.close();
      return session;
    }
    this.sessions.add(session);
    if (session.appAllowed) this.options.app?.viewerJoined(view.viewerId, view.session);
    return session;
  }

  /** A viewer's control channel closed (or its session ended); idempotent. */
  release(session: ControlSession): void {
    if (!this.sessions.delete(session)) return;
    session.close();
    for (const k of Object.keys(this.past) as (keyof ControlSessionStats)[]) {
      this.past[k] += session.stats[k];
    }
    if (session.appAllowed) {
      this.options.app?.viewerLeft(session.view.viewerId, session.view.session);
    }
  }

  /** Delivers a program's message; returns how many sessions got it. */
  fromProgram(message: ProgramMessage): number {
    let delivered = 0;
    for (const session of this.sessions) {
      const { viewerId, session: id } = session.view;
      if (message.viewer !== undefined && message.viewer !== viewerId) continue;
      if (message.session !== undefined && message.session !== id) continue;
      if (session.deliverApp(message.data)) delivered++;
    }
    return delivered;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const session of [...this.sessions]) this.release(session);
  }
}
