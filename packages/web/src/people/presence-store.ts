/**
 * Watched users' presence for React: one store per page fed by the SDK's `presence` events, with a
 * listener set per user, so a change re-renders the rows showing that user and nothing else (500
 * contacts changing at once must not re-render the whole list 500 times).
 */
import { useSyncExternalStore } from 'react';
import type { ParleyClient } from '@parley/sdk';
import type { Presence } from '@parley/protocol';

type Listener = () => void;

export class PresenceStore {
  private readonly byUser = new Map<string, Presence>();
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly client: Pick<ParleyClient, 'on' | 'presence'>) {
    client.on('presence', (p) => this.put(p));
    // Snapshots taken by a subscribe (the first connection's own presence included) arrive as results,
    // not as events: pick them up for everyone shown once the link is open.
    client.on('state', (s) => {
      if (s !== 'open') return;
      for (const id of this.listeners.keys()) {
        const p = client.presence.get(id);
        if (p && p !== this.byUser.get(id)) this.put(p);
      }
    });
  }

  get(userId: string): Presence | undefined {
    return this.byUser.get(userId) ?? this.client.presence.get(userId);
  }

  put(p: Presence): void {
    this.byUser.set(p.userId, p);
    for (const l of this.listeners.get(p.userId) ?? []) l();
  }

  subscribe(userId: string, l: Listener): () => void {
    let set = this.listeners.get(userId);
    if (!set) this.listeners.set(userId, (set = new Set()));
    set.add(l);
    return () => {
      set.delete(l);
      if (!set.size) this.listeners.delete(userId);
    };
  }
}

const stores = new WeakMap<object, PresenceStore>();

/** The page's presence store for a client (made on first use). */
export function presenceStoreOf(client: ParleyClient): PresenceStore {
  let s = stores.get(client);
  if (!s) stores.set(client, (s = new PresenceStore(client)));
  return s;
}

/** A user's presence, re-rendering when it changes (undefined until known). */
export function usePresenceOf(store: PresenceStore, userId: string): Presence | undefined {
  return useSyncExternalStore(
    (l) => store.subscribe(userId, l),
    () => store.get(userId),
  );
}
