/**
 * Events between modules. In-process by default; a Redis driver carries the same events between nodes
 * when several run. Every event names its tenant, so subscribers can scope what they forward.
 * A throwing listener is logged and never breaks the emitter or the other listeners.
 */
import type { DurableEvent, Message } from '@parley/protocol';
import type { DevicePresenceState, UserPresenceSettings } from '../presence/presence-state.ts';

export interface BusEvents {
  /** A user's access ends now: disabled, deleted. */
  'user.disabled': { tenantId: string; userId: string };
  /** A refresh session was revoked: its access tokens and connections end now. */
  'session.revoked': { tenantId: string; userId: string; sessionId: string };
  /**
   * A device's presence changed, appeared (state set) or left (state null). Every node applies these to
   * its presence table, so each can aggregate any user and push to its own watchers.
   */
  'presence.device': {
    /** The presence service that decided it (it applied the change already and skips its own events). */
    origin: string;
    tenantId: string;
    userId: string;
    deviceKey: string;
    state: DevicePresenceState | null;
  };
  /** A user's own presence settings changed (manual availability, status note, out of office). */
  'presence.settings': { origin: string; tenantId: string; userId: string; settings: UserPresenceSettings };
  /** A durable event was appended to a user's event log (after commit): deliver it to their connections. */
  'user.event': { tenantId: string; userId: string; event: DurableEvent };
  /** A chat message was stored, edited or deleted (after commit): push it to the members' devices. */
  'chat.message': { tenantId: string; change: 'new' | 'edit' | 'delete'; message: Message };
  /** A member is typing (ephemeral: never stored). */
  'chat.typing': { tenantId: string; conversationId: string; userId: string; ttlMs: number };
  /** A member's read or delivered position moved. */
  'chat.receipt': {
    tenantId: string;
    conversationId: string;
    userId: string;
    readSeq: number;
    deliveredSeq: number;
  };
  /** A conversation was renamed or its members changed (member caches drop it). */
  'chat.conversation': { tenantId: string; conversationId: string; change: 'renamed' | 'members' };
}

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
