/**
 * A minimal typed event emitter for the isomorphic signaling code: the browser
 * bundle has no node:events. Same call shapes as Node's EventEmitter<T>
 * (on/once/off/emit), so code reads the same on both sides. Unlike Node's,
 * an "error" event with no listener is dropped, not thrown: a viewer's broker
 * trouble must not crash a page that only watches state.
 */
export type EventMap = Record<string, unknown[]>;
type Listener<Args extends unknown[]> = (...args: Args) => void;

export class TypedEmitter<Events extends EventMap> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never[]>>>();

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as unknown as Listener<never[]>);
    return this;
  }

  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const wrapper: Listener<Events[K]> = (...args) => {
      this.off(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    this.#listeners.get(event)?.delete(listener as unknown as Listener<never[]>);
    return this;
  }

  removeAllListeners(): this {
    this.#listeners.clear();
    return this;
  }

  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  emit<K extends keyof Events>(event: K, ...args: Events[K]): boolean {
    const set = this.#listeners.get(event);
    if (!set || set.size === 0) return false;
    // Copy: a listener may remove itself (once) while we iterate.
    for (const listener of [...set]) (listener as unknown as Listener<Events[K]>)(...args);
    return true;
  }
}
