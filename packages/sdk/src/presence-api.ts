/**
 * Presence in the SDK: publish this device's state, set the user's own status, and watch other users.
 * It remembers what it published and whom it watches, so after a reconnection it publishes again and
 * re-subscribes, receiving a fresh snapshot (presence is never replayed, only re-sent).
 */
import type {
  OwnPresence,
  Presence,
  PresencePublish,
  PresenceSet,
  RefusedSubscription,
} from '@parley/protocol';
import type { RealtimeLink } from './realtime-link.ts';
import type { RestClient } from './rest-client.ts';
import { IdleMonitor, type ActivitySource } from './idle-monitor.ts';

/** The server takes at most this many ids per subscribe frame. */
const CHUNK = 500;

export class PresenceApi {
  private readonly watched = new Set<string>();
  private readonly cache = new Map<string, Presence>();
  private published: PresencePublish = {};

  constructor(
    private readonly link: Pick<RealtimeLink, 'request'>,
    private readonly notify: (p: Presence) => void,
    private readonly rest: Pick<RestClient, 'request'>,
  ) {}

  /**
   * Reports this device idle after `afterMs` without input on `source` (default: the browser's document,
   * 5 minutes), and active again at the next input. Returns a function that stops watching.
   */
  trackIdle(source?: ActivitySource, afterMs = 5 * 60_000): () => void {
    const target = source ?? (globalThis as { document?: ActivitySource }).document;
    if (!target) throw new Error('trackIdle: no document here; pass an EventTarget fed with activity events');
    const monitor = new IdleMonitor(target, afterMs, (idle) => {
      // Remembered even when offline: published again on reconnecting.
      this.publish({ idle }).catch(() => {});
    });
    return () => monitor.stop();
  }

  /** Your own presence and the manual state behind it (say, Appear offline, which others see as Offline). */
  mine(): Promise<OwnPresence> {
    return this.rest.request('GET', '/api/me/presence');
  }

  /** The last known presence of a watched user (or of yourself). */
  get(userId: string): Presence | undefined {
    return this.cache.get(userId);
  }

  /** The ids this client watches. */
  get watching(): ReadonlySet<string> {
    return this.watched;
  }

  /** Publishes this device's state (merged with what it published before). */
  async publish(state: PresencePublish): Promise<Presence> {
    this.published = { ...this.published, ...state };
    return this.remember(await this.link.request({ t: 'presence.publish', state }));
  }

  /** Sets the user's own manual availability, status note or out-of-office message (null clears). */
  async set(settings: PresenceSet): Promise<Presence> {
    return this.remember(await this.link.request({ t: 'presence.set', settings }));
  }

  /**
   * Watches users: resolves to their current presence, and every later change arrives as a `presence`
   * event. Refused ids (other tenants' or unknown users: `not_found`) are returned, not watched.
   */
  async subscribe(
    userIds: readonly string[],
  ): Promise<{ presences: Presence[]; refused: RefusedSubscription[] }> {
    const presences: Presence[] = [];
    const refused: RefusedSubscription[] = [];
    for (let i = 0; i < userIds.length; i += CHUNK) {
      const r = await this.link.request({ t: 'presence.subscribe', userIds: userIds.slice(i, i + CHUNK) });
      for (const p of r.presences) {
        this.watched.add(p.userId);
        presences.push(this.remember(p));
      }
      refused.push(...r.refused);
    }
    return { presences, refused };
  }

  async unsubscribe(userIds: readonly string[]): Promise<void> {
    for (const id of userIds) {
      this.watched.delete(id);
      this.cache.delete(id);
    }
    for (let i = 0; i < userIds.length; i += CHUNK)
      await this.link.request({ t: 'presence.unsubscribe', userIds: userIds.slice(i, i + CHUNK) });
  }

  /** A pushed change. */
  received(p: Presence): void {
    this.remember(p);
    this.notify(p);
  }

  /** After a (re)connection: publish again and take a fresh snapshot of everyone watched. */
  async restore(selfId: string, reconnect: boolean): Promise<void> {
    if (reconnect && Object.keys(this.published).length)
      await this.link.request({ t: 'presence.publish', state: this.published });
    const ids = [...new Set([selfId, ...this.watched])];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const r = await this.link.request({ t: 'presence.subscribe', userIds: ids.slice(i, i + CHUNK) });
      for (const p of r.presences) {
        const before = this.cache.get(p.userId);
        this.remember(p);
        if (reconnect && !samePresence(before, p)) this.notify(p);
      }
      for (const x of r.refused) this.watched.delete(x.userId);
    }
  }

  private remember(p: Presence): Presence {
    this.cache.set(p.userId, p);
    return p;
  }
}

function samePresence(a: Presence | undefined, b: Presence): boolean {
  return !!a && JSON.stringify(a) === JSON.stringify(b);
}
