/**
 * A small typed event emitter: the event map type checks every `emit` and `on`, and a throwing
 * listener is reported to `onListenerError` instead of breaking the emitter (mediasoup's safeEmit).
 */

export type EventMap = Record<string, unknown[]>;
type Listener<A extends unknown[]> = (...args: A) => void;

export class TypedEmitter<E extends EventMap> {
  private listeners: { [K in keyof E]?: Array<Listener<E[K]>> } | undefined;
  /** Called with errors thrown by listeners; by default they are rethrown asynchronously. */
  onListenerError(err: unknown): void {
    queueMicrotask(() => {
      throw err;
    });
  }

  on<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    this.listeners ??= {};
    (this.listeners[event] ??= []).push(fn);
    return this;
  }

  once<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    const wrapper: Listener<E[K]> = (...args) => {
      this.off(event, wrapper);
      fn(...args);
    };
    return this.on(event, wrapper);
  }

  off<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    const list = this.listeners?.[event];
    if (list) {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.listeners?.[event]?.length ?? 0;
  }

  /** Calls each listener; returns whether there was any. */
  protected emit<K extends keyof E>(event: K, ...args: E[K]): boolean {
    const list = this.listeners?.[event];
    if (!list || list.length === 0) return false;
    for (const fn of list.slice()) {
      try {
        fn(...args);
      } catch (err) {
        this.onListenerError(err);
      }
    }
    return true;
  }

  removeAllListeners(): void {
    this.listeners = undefined;
  }
}
