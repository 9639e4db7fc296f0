/**
 * What the addon's device objects (camera pipeline, microphone capture,
 * speaker playback) share on the JavaScript side: the native object is
 * opened in the constructor, start() and stop() may alternate, close() is
 * idempotent and emits 'closed' once, a fatal native error stops the
 * device before it is reported, and an unplugged device closes itself.
 * Each subclass adds its own events and calls.
 */
import { EventEmitter } from "node:events";
import { callNative, fromNative } from "./errors.js";

/** The events every native device emits; a subclass's Events extend these. */
export interface NativeDeviceEvents {
  /** Asynchronous failures; after a fatal one the device has stopped (see `running`). */
  error: [Error];
  /** The device went away; it has closed itself. */
  unplugged: [];
  closed: [];
}

/** The calls every native device object has (native/src/*_wrap.cc). */
export interface NativeDeviceHandle {
  start(): void;
  stop(): void;
  close(): void;
}

/** The native events every device reports; the rest are the subclass's. */
export type CommonNativeEvent = ["error", Error, boolean] | ["unplugged"];

export abstract class NativeDevice<
  Events extends NativeDeviceEvents & Record<keyof Events, unknown[]>,
  Handle extends NativeDeviceHandle,
  Event extends [string, ...unknown[]],
> extends EventEmitter<Events> {
  protected readonly native: Handle;
  #closed = false;
  #running = false;

  /**
   * `name` prefixes the errors of calls on a closed device
   * ("AudioCapture.start: closed"); `open` builds the native object with
   * the event callback it must report to.
   */
  protected constructor(
    private readonly name: string,
    open: (onEvent: (...event: Event) => void) => Handle,
  ) {
    super();
    // The native constructors validate options (TypeError) before they open anything.
    this.native = callNative(() =>
      open((...event: Event) => {
        this.#onNative(event);
      }),
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    this.assertOpen("start");
    callNative(() => {
      this.native.start();
    });
    this.#running = true;
  }

  /** Stops (threads joined); start() may follow. */
  stop(): void {
    if (this.#closed) return;
    this.native.stop();
    this.#running = false;
  }

  /** Idempotent: joins the threads, closes the device, then emits 'closed'. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#running = false;
    this.native.close();
    this.#common().emit("closed");
  }

  protected assertOpen(what: string): void {
    if (this.#closed) throw new Error(`${this.name}.${what}: closed`);
  }

  /** A native event other than an error or an unplug, while open. */
  protected abstract onEvent(event: Exclude<Event, CommonNativeEvent>): void;

  /**
   * EventEmitter<Events>'s emit() cannot take a key of a generic map, though
   * every Events has these three.
   */
  #common(): EventEmitter<NativeDeviceEvents> {
    return this as unknown as EventEmitter<NativeDeviceEvents>;
  }

  #onNative(event: Event): void {
    if (this.#closed) return;
    const common = event as unknown as CommonNativeEvent | [string];
    switch (common[0]) {
      case "error": {
        const [, err, fatal] = common as ["error", Error, boolean];
        if (fatal) this.stop();
        this.#common().emit("error", fromNative(err) as Error);
        return;
      }
      case "unplugged":
        this.#running = false;
        this.native.close();
        this.#common().emit("unplugged");
        this.close();
        return;
      default:
        this.onEvent(event as Exclude<Event, CommonNativeEvent>);
    }
  }
}
