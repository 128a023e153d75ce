/**
 * The presence table: every known user's devices and settings, in memory, and their aggregated presence.
 * Device states are ephemeral (devices publish again when they reconnect); a user's own settings are
 * also written through `persist` and loaded at start, so a status note or out-of-office message
 * survives a restart.
 *
 * Changes travel through the bus, even inside one process: a local call (a device connects, publishes,
 * leaves; a user sets a status) is applied to this node's table at once and published as
 * `presence.device` or `presence.settings`, and every other node's service applies those events to its
 * own table (each service skips its own events, tagged with its `origin`). So with a Redis bus every node
 * can aggregate any user and push changes to the watchers connected to it, and a local call answers what
 * it decided, not whatever the bus has delivered so far (on an asynchronous bus, nothing yet). Timers that decide something (a departed device's
 * grace) run only on the node that owned the connection; expiries are computed from absolute instants,
 * so every node reaches the same answer.
 *
 * Grace: when a device's last connection drops, its state lingers for `graceMs` before the device is
 * removed, so a reconnect (same device id) does not flap the user to Offline and back. A deliberate close
 * (the client says goodbye, or its session is revoked) removes the device at once.
 */
import { randomUUID } from 'node:crypto';
import type { Presence } from '@parley/protocol';
import { systemClock, type Clock, type TimerHandle } from '@parley/sip';
import type { Bus } from '../bus/bus.ts';
import { aggregate } from './aggregate.ts';
import {
  emptySettings,
  initialDeviceState,
  settingsEmpty,
  type DevicePresenceState,
  type UserPresenceSettings,
} from './presence-state.ts';
import type { Activity, ManualAvailability, PresencePublish, PresenceSet } from '@parley/protocol';

export type PresenceListener = (tenantId: string, userId: string, presence: Presence) => void;

interface UserEntry {
  tenantId: string;
  devices: Map<string, DevicePresenceState>;
  settings: UserPresenceSettings;
  presence: Presence;
  expiryTimer: TimerHandle | null;
  /** Set by the server for the user as a whole (In a call), not by a device; null when none. */
  serverActivity: Activity | null;
}

/** This node's connections to one device: the grace timer runs when the count drops to zero. */
interface LocalDevice {
  tenantId: string;
  userId: string;
  connections: number;
  graceTimer: TimerHandle | null;
}

export interface PresenceOptions {
  graceMs: number;
  /**
   * Runs the grace and expiry timers: the SIP stack's clock interface, so tests drive both with one
   * FakeClock instead of sleeping. Only its timers are used; instants come from `now`.
   */
  clock?: Clock;
  /** This service's name on the bus (its own events come back and are skipped); random by default. */
  origin?: string;
  /** Wall-clock time, ms since the epoch (expiries are absolute instants); Date.now by default. */
  now?: () => number;
  /**
   * Stores a user's changed settings. Awaited before the change is applied, published or answered
   * (acknowledged means stored); a rejection leaves the settings as they were and reaches the caller.
   */
  persist?: (tenantId: string, userId: string, settings: UserPresenceSettings) => Promise<void> | void;
}

const MAX_TIMER = 2 ** 31 - 1;
const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class PresenceService {
  private readonly users = new Map<string, UserEntry>();
  private readonly local = new Map<string, LocalDevice>();
  private readonly listeners: PresenceListener[] = [];
  private readonly unsubscribe: Array<() => void>;
  private readonly now: () => number;
  private readonly clock: Clock;
  private readonly origin: string;
  /** Settings changes run one after another, so each builds on the stored result of the one before. */
  private setting: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly bus: Bus,
    private readonly opts: PresenceOptions,
    private readonly onListenerError: (err: unknown) => void = () => {},
  ) {
    this.now = opts.now ?? Date.now;
    this.clock = opts.clock ?? systemClock;
    this.origin = opts.origin ?? randomUUID();
    this.unsubscribe = [
      bus.subscribe('presence.device', (e) => {
        if (e.origin !== this.origin) this.applyDevice(e.tenantId, e.userId, e.deviceKey, e.state);
      }),
      bus.subscribe('presence.settings', (e) => {
        if (e.origin !== this.origin) this.applySettings(e.tenantId, e.userId, e.settings);
      }),
      bus.subscribe('presence.activity', (e) => {
        if (e.origin !== this.origin) this.applyActivity(e.tenantId, e.userId, e.activity);
      }),
    ];
  }

  /** Calls `listener` after every change of a user's aggregated presence. */
  onChange(listener: PresenceListener): void {
    this.listeners.push(listener);
  }

  /** The user's current presence (Offline when nothing is known). */
  get(userId: string): Presence {
    return this.users.get(userId)?.presence ?? offline(userId);
  }

  /** The manual state a user has set (in force now), or null. */
  manualOf(userId: string): { availability: ManualAvailability; until: string | null } | null {
    const m = this.users.get(userId)?.settings.manual;
    if (!m || (m.until !== null && m.until <= this.now())) return null;
    return { availability: m.availability, until: isoOrNull(m.until) };
  }

  /** Number of users with an entry (for tests and metrics). */
  get size(): number {
    return this.users.size;
  }

  // --- local calls (from this node's connections) ---

  /** A connection of `deviceKey` opened on this node. */
  deviceConnected(tenantId: string, userId: string, deviceKey: string): void {
    const d = this.local.get(deviceKey);
    if (d) {
      d.connections++;
      if (d.graceTimer) this.clock.clearTimer(d.graceTimer);
      d.graceTimer = null;
      if (this.users.get(userId)?.devices.has(deviceKey)) return; // reconnect within grace: state kept
    } else {
      this.local.set(deviceKey, { tenantId, userId, connections: 1, graceTimer: null });
    }
    this.decideDevice(tenantId, userId, deviceKey, initialDeviceState());
  }

  /** A connection of `deviceKey` closed; `immediate` skips the grace (a deliberate sign-off). */
  deviceDisconnected(deviceKey: string, immediate: boolean): void {
    const d = this.local.get(deviceKey);
    if (!d) return;
    d.connections--;
    if (d.connections > 0) return;
    const gone = () => {
      this.local.delete(deviceKey);
      this.decideDevice(d.tenantId, d.userId, deviceKey, null);
    };
    if (immediate || this.opts.graceMs === 0) return gone();
    d.graceTimer = this.clock.setTimer(this.opts.graceMs, gone);
  }

  /** A device reports its own state; omitted fields keep their value. */
  publish(tenantId: string, userId: string, deviceKey: string, patch: PresencePublish): Presence {
    const current = this.users.get(userId)?.devices.get(deviceKey) ?? initialDeviceState();
    const state: DevicePresenceState = {
      availability: patch.availability ?? current.availability,
      activity: patch.activity ?? current.activity,
      idle: patch.idle ?? current.idle,
    };
    this.decideDevice(tenantId, userId, deviceKey, state);
    return this.get(userId);
  }

  /**
   * The user changes their own settings; omitted fields keep their value, null clears. Resolves once the
   * change is stored and applied; rejects (nothing changed) when it could not be stored.
   */
  set(tenantId: string, userId: string, patch: PresenceSet): Promise<Presence> {
    const next = this.setting.then(() => this.decideSettings(tenantId, userId, patch));
    this.setting = next.catch(() => {});
    return next;
  }

  private async decideSettings(tenantId: string, userId: string, patch: PresenceSet): Promise<Presence> {
    const s = { ...(this.users.get(userId)?.settings ?? emptySettings()) };
    const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso));
    if (patch.manual !== undefined)
      s.manual = patch.manual && { availability: patch.manual.availability, until: ms(patch.manual.until) };
    if (patch.note !== undefined)
      s.note = patch.note && { text: patch.note.text, until: ms(patch.note.until) };
    if (patch.outOfOffice !== undefined)
      s.outOfOffice = patch.outOfOffice && {
        message: patch.outOfOffice.message,
        until: ms(patch.outOfOffice.until),
      };
    await this.opts.persist?.(tenantId, userId, s);
    this.applySettings(tenantId, userId, s);
    this.bus.publish('presence.settings', { origin: this.origin, tenantId, userId, settings: s });
    return this.get(userId);
  }

  /**
   * The server sets (or, with null, clears) an activity of the user as a whole: call control's "In a
   * call" while any of the user's calls is connected. It shows on every device of the user, beside
   * what the devices publish themselves (see aggregate.ts rule 8). Not stored: calls do not survive a
   * restart either.
   */
  setActivity(tenantId: string, userId: string, activity: Activity | null): void {
    this.applyActivity(tenantId, userId, activity);
    this.bus.publish('presence.activity', { origin: this.origin, tenantId, userId, activity });
  }

  private applyActivity(tenantId: string, userId: string, activity: Activity | null): void {
    if (activity === null && !this.users.has(userId)) return;
    const e = this.entry(tenantId, userId);
    e.serverActivity = activity;
    this.recompute(userId, e);
  }

  /** Loads persisted settings at start (no change events: nobody watches yet). */
  load(entries: Iterable<{ tenantId: string; userId: string; settings: UserPresenceSettings }>): void {
    for (const { tenantId, userId, settings } of entries) {
      const e = this.entry(tenantId, userId);
      e.settings = settings;
      this.recompute(userId, e);
    }
  }

  /** Applies this node's decision about a device to its own table, then tells the other nodes. */
  private decideDevice(
    tenantId: string,
    userId: string,
    deviceKey: string,
    state: DevicePresenceState | null,
  ): void {
    this.applyDevice(tenantId, userId, deviceKey, state);
    this.bus.publish('presence.device', { origin: this.origin, tenantId, userId, deviceKey, state });
  }

  // --- applying changes (local decisions, and bus events from other nodes) ---

  private entry(tenantId: string, userId: string): UserEntry {
    let e = this.users.get(userId);
    if (!e) {
      e = {
        tenantId,
        devices: new Map(),
        settings: emptySettings(),
        presence: offline(userId),
        expiryTimer: null,
        serverActivity: null,
      };
      this.users.set(userId, e);
    }
    return e;
  }

  private applyDevice(
    tenantId: string,
    userId: string,
    deviceKey: string,
    state: DevicePresenceState | null,
  ): void {
    if (state === null && !this.users.has(userId)) return;
    const e = this.entry(tenantId, userId);
    if (state) e.devices.set(deviceKey, state);
    else e.devices.delete(deviceKey);
    this.recompute(userId, e);
  }

  private applySettings(tenantId: string, userId: string, settings: UserPresenceSettings): void {
    const e = this.entry(tenantId, userId);
    e.settings = settings;
    this.recompute(userId, e);
  }

  private recompute(userId: string, e: UserEntry): void {
    const now = this.now();
    const a = aggregate(e.devices.values(), e.settings, now, e.serverActivity ?? 'none');
    // Expired settings are dropped, so an entry with nothing left can be forgotten.
    e.settings = { manual: pruneExpired(e.settings.manual, now), note: a.note, outOfOffice: a.outOfOffice };
    if (e.expiryTimer) this.clock.clearTimer(e.expiryTimer);
    e.expiryTimer = null;
    if (a.nextExpiry !== null) {
      e.expiryTimer = this.clock.setTimer(Math.min(MAX_TIMER, Math.max(0, a.nextExpiry - now) + 1), () =>
        this.recompute(userId, e),
      );
    }
    const prev = e.presence;
    const next: Presence = {
      userId,
      availability: a.availability,
      activity: a.activity,
      manualUntil: isoOrNull(a.manualUntil),
      note: a.note && { text: a.note.text, until: isoOrNull(a.note.until) },
      outOfOffice: a.outOfOffice && { message: a.outOfOffice.message, until: isoOrNull(a.outOfOffice.until) },
      since: a.availability === prev.availability ? prev.since : new Date(now).toISOString(),
    };
    if (e.devices.size === 0 && settingsEmpty(e.settings) && e.serverActivity === null) {
      if (e.expiryTimer) this.clock.clearTimer(e.expiryTimer);
      this.users.delete(userId);
    } else {
      e.presence = next;
    }
    if (!samePresence(prev, next)) this.emit(e.tenantId, userId, next);
  }

  private emit(tenantId: string, userId: string, p: Presence): void {
    for (const l of this.listeners) {
      try {
        l(tenantId, userId, p);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  close(): void {
    this.unsubscribe.forEach((u) => u());
    for (const e of this.users.values()) if (e.expiryTimer) this.clock.clearTimer(e.expiryTimer);
    for (const d of this.local.values()) if (d.graceTimer) this.clock.clearTimer(d.graceTimer);
  }
}

function pruneExpired<T extends { until: number | null }>(x: T | null, now: number): T | null {
  return x && (x.until === null || x.until > now) ? x : null;
}

function offline(userId: string): Presence {
  return {
    userId,
    availability: 'offline',
    activity: 'none',
    manualUntil: null,
    note: null,
    outOfOffice: null,
    since: new Date(0).toISOString(),
  };
}

function samePresence(a: Presence, b: Presence): boolean {
  return (
    a.availability === b.availability &&
    a.activity === b.activity &&
    a.manualUntil === b.manualUntil &&
    a.note?.text === b.note?.text &&
    a.note?.until === b.note?.until &&
    a.outOfOffice?.message === b.outOfOffice?.message &&
    a.outOfOffice?.until === b.outOfOffice?.until
  );
}
