/**
 * The live registrations (RFC 3261 section 10): every binding of a SIP device's address-of-record to a
 * contact, held in memory and indexed by user, with a change event. This is the lookup phone calls
 * use to ring a user's phones (`contactsOf`) and to stop ringing one that went away (`onChange`).
 *
 * The registrar (registrar.ts) decides every change and stores it first (registration-store.ts);
 * this table only holds what was stored, tells listeners, and makes each live binding one of the
 * user's devices in presence (a phone registered is the user reachable). Expiry runs here on the
 * injected clock, so tests move time instead of sleeping.
 */
import type { Clock, TimerHandle, TransportProtocol } from '@parley/sip';
import { systemClock } from '@parley/sip';

/**
 * Where the device was when it registered: the source of the REGISTER (RFC 3581 `received`/`rport`,
 * so a phone behind NAT is reached through its pinhole), and for TCP, TLS and WebSocket the
 * connection it came on (RFC 5626's flow), reused while it is open.
 */
export interface RegistrationFlow {
  protocol: TransportProtocol;
  address: string;
  port: number;
  /** The connection the REGISTER came on (streams only; gone after a restart). */
  connectionId?: number;
}

export interface Binding {
  bindingId: string;
  tenantId: string;
  userId: string;
  deviceId: string;
  /** The address-of-record, `sip:username@domain`. */
  aor: string;
  /** The Contact URI as the device gave it: the Request-URI of requests sent to it. */
  contact: string;
  flow: RegistrationFlow;
  /** Wall-clock instant (ms since the epoch) the binding lapses. */
  expiresAt: number;
  /** The REGISTER's Call-ID and CSeq (section 10.3 step 7 orders refreshes by them). */
  callId: string;
  cseq: number;
  /** `q` of the Contact, 0..1 (1 when absent). */
  q: number;
  /** RFC 5626 `+sip.instance`, when the device sent one. */
  instance?: string;
  userAgent?: string;
  registeredAt: number;
}

/** Why a binding went away. */
export type RemovalReason = 'unregistered' | 'expired' | 'unreachable' | 'replaced';

export type RegistrationChange =
  | { type: 'added' | 'refreshed'; binding: Binding }
  | { type: 'removed'; binding: Binding; reason: RemovalReason };

/** What phone calls need of the registrar. */
export interface Registrations {
  /** The user's live bindings (every registered contact of every device of theirs). */
  contactsOf(tenantId: string, userId: string): readonly Binding[];
  /** Calls `listener` after every change; returns a function that stops it. */
  onChange(listener: (change: RegistrationChange) => void): () => void;
}

/** The presence calls a binding makes (presence-service.ts). */
export interface RegistrationPresence {
  deviceConnected(tenantId: string, userId: string, deviceKey: string): void;
  deviceDisconnected(deviceKey: string, immediate: boolean): void;
}

/** The presence device key of a binding: a phone shows as one device per registered contact. */
export function bindingDeviceKey(b: Pick<Binding, 'bindingId'>): string {
  return `sip:${b.bindingId}`;
}

export interface RegistrationTableOptions {
  presence?: RegistrationPresence;
  /** Runs the expiry timers (tests pass a FakeClock). */
  clock?: Clock;
  /** Wall-clock time, ms since the epoch; Date.now by default. */
  now?: () => number;
  /** A listener threw (logged by the caller); the other listeners still run. */
  onListenerError?(err: unknown): void;
  /** Told when a binding lapses, after it left the table (the registrar deletes the row). */
  onExpired?(binding: Binding): void;
}

/** Longest single timer (setTimeout's limit); longer expiries re-arm. */
const MAX_TIMER = 2 ** 31 - 1;

export class RegistrationTable implements Registrations {
  private readonly byId = new Map<string, Binding>();
  private readonly byUser = new Map<string, Map<string, Binding>>();
  private readonly byDevice = new Map<string, Map<string, Binding>>();
  private readonly timers = new Map<string, TimerHandle>();
  private readonly listeners = new Set<(change: RegistrationChange) => void>();
  private readonly clock: Clock;
  readonly now: () => number;

  constructor(private readonly opts: RegistrationTableOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.now = opts.now ?? Date.now;
  }

  contactsOf(tenantId: string, userId: string): readonly Binding[] {
    const m = this.byUser.get(userKey(tenantId, userId));
    return m ? [...m.values()] : [];
  }

  onChange(listener: (change: RegistrationChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Bindings of one device (the registrar's view of an address-of-record). */
  ofDevice(deviceId: string): Binding[] {
    const m = this.byDevice.get(deviceId);
    return m ? [...m.values()] : [];
  }

  get(bindingId: string): Binding | undefined {
    return this.byId.get(bindingId);
  }

  /** Every live binding (keep-alive walks it). */
  all(): Binding[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  /** Adds or refreshes a stored binding. */
  put(b: Binding): void {
    const old = this.byId.get(b.bindingId);
    this.byId.set(b.bindingId, b);
    const key = userKey(b.tenantId, b.userId);
    let m = this.byUser.get(key);
    if (!m) this.byUser.set(key, (m = new Map()));
    m.set(b.bindingId, b);
    let d = this.byDevice.get(b.deviceId);
    if (!d) this.byDevice.set(b.deviceId, (d = new Map()));
    d.set(b.bindingId, b);
    this.arm(b);
    if (!old) this.opts.presence?.deviceConnected(b.tenantId, b.userId, bindingDeviceKey(b));
    this.emit({ type: old ? 'refreshed' : 'added', binding: b });
  }

  /** Removes a binding (already deleted from storage); returns it, or undefined when unknown. */
  remove(bindingId: string, reason: RemovalReason): Binding | undefined {
    const b = this.byId.get(bindingId);
    if (!b) return undefined;
    this.byId.delete(bindingId);
    const key = userKey(b.tenantId, b.userId);
    const m = this.byUser.get(key);
    m?.delete(bindingId);
    if (m?.size === 0) this.byUser.delete(key);
    const d = this.byDevice.get(b.deviceId);
    d?.delete(bindingId);
    if (d?.size === 0) this.byDevice.delete(b.deviceId);
    const t = this.timers.get(bindingId);
    if (t) this.clock.clearTimer(t);
    this.timers.delete(bindingId);
    this.opts.presence?.deviceDisconnected(bindingDeviceKey(b), true);
    this.emit({ type: 'removed', binding: b, reason });
    return b;
  }

  /** Stops every timer and forgets every binding without telling anyone (shutdown). */
  close(): void {
    for (const t of this.timers.values()) this.clock.clearTimer(t);
    this.timers.clear();
    for (const b of this.byId.values()) this.opts.presence?.deviceDisconnected(bindingDeviceKey(b), true);
    this.byId.clear();
    this.byUser.clear();
    this.byDevice.clear();
  }

  private arm(b: Binding): void {
    const prev = this.timers.get(b.bindingId);
    if (prev) this.clock.clearTimer(prev);
    const left = Math.max(0, b.expiresAt - this.now());
    this.timers.set(
      b.bindingId,
      this.clock.setTimer(Math.min(left, MAX_TIMER), () => {
        this.timers.delete(b.bindingId);
        const cur = this.byId.get(b.bindingId);
        if (cur !== b) return;
        if (b.expiresAt > this.now()) return this.arm(b);
        this.remove(b.bindingId, 'expired');
        this.opts.onExpired?.(b);
      }),
    );
  }

  private emit(change: RegistrationChange): void {
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch (err) {
        this.opts.onListenerError?.(err);
      }
    }
  }
}

function userKey(tenantId: string, userId: string): string {
  return `${tenantId}\n${userId}`;
}
