/**
 * Events between modules. In-process by default; a Redis driver carries the same events between nodes
 * when several run. Every event names its tenant, so subscribers can scope what they forward.
 * A throwing listener is logged and never breaks the emitter or the other listeners.
 *
 * The bus knows no domain: each domain declares the events it publishes next to its code, by adding
 * them to `BusEvents` (TypeScript module augmentation), so every publish and subscribe is still checked
 * against one map: auth/auth-events.ts, presence/presence-events.ts, realtime/realtime-events.ts,
 * chat/chat-events.ts.
 */

/** Topic -> payload of every event, filled in by the domains (see above). */
export interface BusEvents {}

export type BusListener<K extends keyof BusEvents> = (event: BusEvents[K]) => void;

export interface Bus {
  publish<K extends keyof BusEvents>(topic: K, event: BusEvents[K]): void;
  subscribe<K extends keyof BusEvents>(topic: K, listener: BusListener<K>): () => void;
}

export class InProcessBus implements Bus {
  private readonly listeners = new Map<keyof BusEvents, Set<(e: unknown) => void>>();

  constructor(private readonly onListenerError: (err: unknown, topic: string) => void = () => {}) {}

  publish<K extends keyof BusEvents>(topic: K, event: BusEvents[K]): void {
    const set = this.listeners.get(topic);
    if (!set) return;
    for (const l of [...set]) {
      try {
        l(event);
      } catch (err) {
        this.onListenerError(err, topic);
      }
    }
  }

  subscribe<K extends keyof BusEvents>(topic: K, listener: BusListener<K>): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    const l = listener as (e: unknown) => void;
    set.add(l);
    return () => set.delete(l);
  }
}
