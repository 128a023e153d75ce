/**
 * The signed-in user's contact list for React: loaded over REST, watched for presence once the
 * realtime link is up, and reloaded when a `contacts.changed` event says another device (or an
 * administrator) changed it. Changes made here are applied from the server's answer.
 */
import { useSyncExternalStore } from 'react';
import type { ParleyClient } from '@parley/sdk';
import type { Contact, ContactGroup, PutContactRequest } from '@parley/protocol';
import { presenceStoreOf, type PresenceStore } from './presence-store.ts';

export interface ContactsSnapshot {
  status: 'loading' | 'ready' | 'failed';
  contacts: Contact[];
  groups: ContactGroup[];
  error: unknown;
}

export class ContactsStore {
  private snap: ContactsSnapshot = { status: 'loading', contacts: [], groups: [], error: null };
  private readonly listeners = new Set<() => void>();
  private loading: Promise<void> | null = null;

  constructor(
    private readonly client: ParleyClient,
    private readonly presence: PresenceStore,
  ) {
    client.on('event', (e) => {
      if (e.kind === 'contacts.changed') this.load().catch(() => {});
    });
    // After a reconnection the SDK re-subscribes to everyone watched; the first connection needs this.
    client.on('state', (s) => {
      if (s === 'open') this.watchAll().catch(() => {});
    });
  }

  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  getSnapshot = () => this.snap;

  /** Loads the list (again); concurrent callers share one request. */
  load(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const list = await this.client.contacts.list();
        this.set({ status: 'ready', contacts: list.contacts, groups: list.groups, error: null });
        await this.watchAll();
      } catch (error) {
        if (this.snap.status === 'loading') this.set({ ...this.snap, status: 'failed', error });
        throw error;
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  async put(userId: string, change: PutContactRequest = {}): Promise<void> {
    const c = await this.client.contacts.put(userId, change);
    const others = this.snap.contacts.filter((x) => x.userId !== userId);
    this.set({ ...this.snap, contacts: [...others, c] });
    await this.watchAll();
  }

  async remove(userId: string): Promise<void> {
    await this.client.contacts.remove(userId);
    this.set({ ...this.snap, contacts: this.snap.contacts.filter((x) => x.userId !== userId) });
  }

  async createGroup(name: string): Promise<ContactGroup> {
    const g = await this.client.contacts.createGroup(name);
    this.set({ ...this.snap, groups: [...this.snap.groups, g] });
    return g;
  }

  /** Subscribes to the presence of every contact not yet watched (when the link is open). */
  private async watchAll(): Promise<void> {
    if (this.client.state !== 'open') return;
    const missing = this.snap.contacts
      .map((c) => c.userId)
      .filter((id) => !this.client.presence.watching.has(id));
    if (!missing.length) return;
    const { presences } = await this.client.presence.subscribe(missing);
    for (const p of presences) this.presence.put(p);
  }

  private set(s: ContactsSnapshot): void {
    this.snap = s;
    for (const l of this.listeners) l();
  }
}

const stores = new WeakMap<object, ContactsStore>();

export function contactsStoreOf(client: ParleyClient): ContactsStore {
  let s = stores.get(client);
  if (!s) stores.set(client, (s = new ContactsStore(client, presenceStoreOf(client))));
  return s;
}

export function useContacts(store: ContactsStore): ContactsSnapshot {
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}
