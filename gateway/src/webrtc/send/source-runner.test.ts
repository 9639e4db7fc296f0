import { describe, expect, it } from "vitest";
import { SourceRunner, type Runnable } from "./source-runner.js";

/** A source whose start() takes until the test lets it finish, and that records its calls. */
class SlowSource implements Runnable {
  readonly calls: string[] = [];
  failNextStart = false;
  #release: (() => void) | undefined;
  #onStart: (() => void) | undefined;
  /** Resolves when start() has been called. */
  readonly started = new Promise<void>((resolve) => (this.#onStart = resolve));

  start(): Promise<void> {
    this.calls.push("start");
    this.#onStart?.();
    if (this.failNextStart) {
      this.failNextStart = false;
      return Promise.reject(new Error("no such camera"));
    }
    return new Promise((resolve) => (this.#release = resolve));
  }

  stop(): Promise<void> {
    this.calls.push("stop");
    return Promise.resolve();
  }

  finishStart(): void {
    this.#release?.();
  }
}

describe("SourceRunner", () => {
  it("lets a stop asked while the source is still starting wait for the start, then stops it", async () => {
    const source = new SlowSource();
    const runner = new SourceRunner(source, { startFailed: () => undefined });
    runner.want(true);
    await source.started;
    runner.want(false);
    await new Promise((r) => setTimeout(r, 10));
    expect(source.calls).toEqual(["start"]);
    source.finishStart();
    await runner.settled();
    expect(source.calls).toEqual(["start", "stop"]);
    expect(runner.running).toBe(false);
  });

  it("does not start at all for a wish taken back before its turn", async () => {
    const source = new SlowSource();
    const runner = new SourceRunner(source, { startFailed: () => undefined });
    runner.want(true);
    runner.want(false);
    await runner.settled();
    expect(source.calls).toEqual([]);
  });

  it("starts once for many wishes to run, and the last wish wins", async () => {
    const source = new SlowSource();
    const runner = new SourceRunner(source, { startFailed: () => undefined });
    runner.want(true);
    runner.want(false);
    runner.want(true);
    await source.started;
    source.finishStart();
    await runner.settled();
    expect(source.calls).toEqual(["start"]);
    expect(runner.running).toBe(true);
  });

  it("reports a start that fails and leaves the source stopped", async () => {
    const source = new SlowSource();
    source.failNextStart = true;
    const failures: string[] = [];
    const runner = new SourceRunner(source, { startFailed: (e) => failures.push(e.message) });
    runner.want(true);
    await runner.settled();
    expect(failures).toEqual(["no such camera"]);
    expect(runner.running).toBe(false);
    expect(runner.wanted).toBe(true);
  });

  it("stops what is left of a source that failed by itself, and forgets the wish when told to", async () => {
    const source = new SlowSource();
    const stopping: string[] = [];
    const runner = new SourceRunner(source, {
      startFailed: () => undefined,
      stopping: () => stopping.push("asked"),
    });
    runner.want(true);
    await source.started;
    source.finishStart();
    await runner.settled();
    runner.failed(false);
    await runner.settled();
    expect(source.calls).toEqual(["start", "stop"]);
    expect(runner.wanted).toBe(false);
    // A failure is no stop on request.
    expect(stopping).toEqual([]);
  });
});
