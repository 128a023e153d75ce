/**
 * A typed event emitter for browsers and Node: the event map type checks every `emit` and `on`, and a
 * throwing listener is reported (`onListenerError`) instead of breaking the emitter or other listeners.
 */
export type EventMap = Record<string, unknown[]>;
type Listener<A extends unknown[]> = (...args: A) => void;

export class TypedEmitter<E extends EventMap> {
  private readonly listeners: { [K in keyof E]?: Array<Listener<E[K]>> } = {};
  /** Receives errors thrown by listeners (default: rethrown asynchronously, so they are not lost). */
  onListenerError: (err: unknown) => void = (err) =>
    queueMicrotask(() => {
      throw err;
    });

  on<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    (this.listeners[event] ??= []).push(fn);
    return () => this.off(event, fn);
  }

  once<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    const off = this.on(event, (...args) => {
      off();
      fn(...args);
    });
    return off;
  }

  off<K extends keyof E>(event: K, fn: Listener<E[K]>): void {
    const list = this.listeners[event];
    const i = list?.indexOf(fn) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const fn of this.listeners[event]?.slice() ?? []) {
      try {
        fn(...args);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
