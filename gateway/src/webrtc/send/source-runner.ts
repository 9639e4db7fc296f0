/**
 * Starts and stops a fan-out's source one step at a time. Viewers come and
 * go faster than a camera or a microphone opens: a viewer leaving while the
 * source is still starting must not race the start, so each wish waits for
 * the step before it, and the last wish wins once that step is done. Used
 * by StreamFanout (the camera) and AudioFanout (the microphone).
 */
export interface Runnable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface SourceRunnerHooks {
  /** start() threw: the source is not running; what to do is the owner's call. */
  startFailed(error: Error): void;
  /** Called as a running source is about to be stopped on request. */
  stopping?(): void;
}

export class SourceRunner {
  #wanted = false;
  #running = false;
  #step: Promise<void> = Promise.resolve();

  constructor(
    private readonly source: Runnable,
    private readonly hooks: SourceRunnerHooks,
  ) {}

  /** Whether the owner last asked for the source to run. */
  get wanted(): boolean {
    return this.#wanted;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Asks for the source to run or not, after the step under way. */
  want(run: boolean): void {
    this.#wanted = run;
    this.#step = this.#step.then(async () => {
      if (this.#wanted === this.#running) return;
      if (this.#wanted) {
        try {
          await this.source.start();
          this.#running = true;
        } catch (error) {
          this.hooks.startFailed(error instanceof Error ? error : new Error(String(error)));
        }
      } else {
        this.#running = false;
        this.hooks.stopping?.();
        await this.source.stop().catch(() => undefined);
      }
    });
  }

  /**
   * The source failed by itself (an error, its end): stop what is left of
   * it, so that the next start opens it afresh. `stillWanted` false also
   * forgets the wish to run (the owner starts it again on demand).
   */
  failed(stillWanted: boolean): void {
    if (!stillWanted) this.#wanted = false;
    this.#step = this.#step.then(async () => {
      if (!this.#running) return;
      this.#running = false;
      await this.source.stop().catch(() => undefined);
    });
  }

  /** Resolves once every step asked so far is done. */
  settled(): Promise<void> {
    return this.#step;
  }
}
