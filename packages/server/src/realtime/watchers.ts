/**
 * Watcher sets: for each watched user, the local connections watching them. A presence change is pushed
 * only to that user's watchers (never broadcast to a tenant), and serialized and framed once per change,
 * not once per watcher: every watcher gets the same bytes.
 */
import type { Presence } from '@parley/protocol';
import { jsonFrame } from './wire-frame.ts';

/** What the fan-out needs from a connection. */
export interface Watcher {
  readonly tenantId: string;
  /** Writes a complete, already-framed WebSocket message (the same bytes for every watcher). */
  sendWire(wire: Buffer): void;
}

interface Entry<W> {
  /** The map's own key, handed out so ids are stored once however many connections watch them. */
  readonly key: string;
  readonly members: Set<W>;
}

export class WatcherSets<W extends Watcher = Watcher> {
  private readonly byUser = new Map<string, Entry<W>>();

  /** Adds `watcher` to `userId`'s set; returns the interned id string to keep instead of `userId`. */
  add(userId: string, watcher: W): string {
    let e = this.byUser.get(userId);
    if (!e) this.byUser.set(userId, (e = { key: userId, members: new Set() }));
    e.members.add(watcher);
    return e.key;
  }

  remove(userId: string, watcher: W): void {
    const e = this.byUser.get(userId);
    if (!e) return;
    e.members.delete(watcher);
    if (e.members.size === 0) this.byUser.delete(userId);
  }

  watchers(userId: string): ReadonlySet<W> | undefined {
    return this.byUser.get(userId)?.members;
  }

  /** Number of watched users. */
  get size(): number {
    return this.byUser.size;
  }

  /** Pushes `presence` to the user's watchers of the same tenant; returns how many got it. */
  push(tenantId: string, presence: Presence): number {
    const e = this.byUser.get(presence.userId);
    if (!e) return 0;
    const wire = jsonFrame({ t: 'presence', presence });
    let n = 0;
    for (const w of e.members) {
      // Subscriptions are checked at subscribe time; this is the wall's second layer.
      if (w.tenantId !== tenantId) continue;
      w.sendWire(wire);
      n++;
    }
    return n;
  }
}
