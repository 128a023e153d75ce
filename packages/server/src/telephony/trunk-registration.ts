/**
 * Registration trunks (issue 19): for every enabled carrier with `auth: 'register'`, Parley keeps a
 * registration at the carrier's registrar, as a desk phone keeps one with its PBX. Many small-business
 * carriers work only this way: they send calls to whatever contact is registered for the account and
 * challenge our INVITEs with the account's digest credentials.
 *
 * One `TrunkRegistrar` per carrier:
 *   REGISTER (AoR `sip:<username>@<domain ?? registrar host>`, Contact `sip:<contact user>@us`) ──▶
 *     2xx ─▶ registered; the granted expiry (our Contact's `expires`, else `Expires`) is read and the
 *            refresh set at the later of half of it and a minute before it runs out
 *     401/407 after our credentials, 403, 408, 503, any other ─▶ failed with words a person can act
 *            on; the next try after `trunkRegisterRetryMin`, doubling with jitter to `...RetryMax`
 * Refreshes keep the Call-ID and increase the CSeq (RFC 3261 section 10.2.4), so the registrar updates
 * one binding instead of piling up new ones. Removing or disabling the trunk, or closing the app,
 * unregisters (`Expires: 0`).
 *
 * Inbound: the carrier calls our registered contact. The contact user is derived from the carrier id
 * and the account's password (a stranger knows neither), and `carrierByContact` matches it only when
 * the INVITE also comes from the registrar's resolved address: a guessed contact from anywhere else is
 * just an unknown source.
 *
 * Time comes from a `Clock` (packages/sip) so unit tests run the refreshes and backoff on a fake one.
 */
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { systemClock, type Clock, type TimerHandle, type DigestCredentials, type Peer } from '@parley/sip';
import type { SipRequest, SipResponse } from '@parley/sip';
import type { Logger } from 'pino';
import { stripIpv6Mapped, type TrunkCarrier, type TrunkTransport } from './carriers.ts';
import type { RegistrationStatus, TrunkStatusBoard } from './trunk-status.ts';

/** The one call of the user agent the registrations need (UserAgentCore.request). */
export interface RegisterSender {
  request(o: {
    method: string;
    target: string;
    from: string;
    to?: string;
    dest: Peer;
    headers?: Array<[string, string | number]>;
    credentials?: DigestCredentials;
    callId?: string;
    cseq?: number;
  }): Promise<{ request: SipRequest; response: SipResponse }>;
}

export interface TrunkRegistrationsDeps {
  ua: RegisterSender;
  status: Pick<TrunkStatusBoard, 'setRegistration'>;
  /** Our SIP address as the carrier reaches it (host or host:port), for the Contact. */
  localHost: string;
  /** Seconds before the first retry; doubles per failure, with jitter, up to retryMaxS. */
  retryMinS: number;
  retryMaxS: number;
  /** A name's address (DNS A/AAAA); tests keep the default or pass a table. */
  resolve?: (host: string) => Promise<string>;
  clock?: Clock;
  /** Jitter source in [0, 1) (tests pin it). */
  random?: () => number;
  log: Logger;
}

const OFF: RegistrationStatus = { state: 'off', lastError: null, expiresAt: null, nextAttemptAt: null };
const PROTOCOL: Record<TrunkTransport, Peer['protocol']> = { udp: 'UDP', tcp: 'TCP', tls: 'TLS' };
/** Seconds before a long grant runs out that its refresh goes. */
const REFRESH_MARGIN_S = 60;
/** How long closing waits for the registrars' answers to our unregistering. */
const UNREGISTER_WAIT_MS = 2000;

/** The Contact user of a carrier's registration: stable per account, unguessable without its password. */
export function contactUser(c: Pick<TrunkCarrier, 'id' | 'registration'>): string {
  const h = createHash('sha256')
    .update(`parley-trunk-contact\0${c.id}\0${c.registration?.password ?? ''}`)
    .digest('hex');
  return `pt${h.slice(0, 20)}`;
}

/**
 * When to refresh a registration granted for `expiresS`: a margin before it runs out on long grants,
 * at half on short ones (the later of the two), so a lost REGISTER still has time for a retry.
 */
export function refreshAfterS(expiresS: number): number {
  return Math.max(0.5, expiresS / 2, expiresS - REFRESH_MARGIN_S);
}

/** The wait before retry number `failures` (1 = the first): min doubling to max, minus up to 25% jitter. */
export function retryAfterS(failures: number, minS: number, maxS: number, random: () => number): number {
  const base = Math.min(maxS, minS * 2 ** Math.max(0, failures - 1));
  return Math.max(minS * 0.5, base * (1 - 0.25 * random()));
}

/** A failed REGISTER in words a person can act on. */
export function registrationError(status: number, reason: string): string {
  if (status === 401 || status === 407) return `${status}: wrong user name or password`;
  if (status === 403)
    return `403 ${reason || 'Forbidden'}: the carrier refuses this account (wrong user name or password, or the account is barred)`;
  if (status === 408) return '408: registrar unreachable (no answer)';
  if (status === 503) return `503: registrar unreachable (${reason || 'Service Unavailable'})`;
  return `${status} ${reason}`.trim();
}

function sameAccount(a: TrunkCarrier, b: TrunkCarrier): boolean {
  return a.transport === b.transport && JSON.stringify(a.registration) === JSON.stringify(b.registration);
}

/** Keeps one registration per enabled registration trunk, following the trunk list. */
export class TrunkRegistrations {
  private readonly byCarrier = new Map<string, TrunkRegistrar>();
  private closed = false;

  constructor(private readonly d: TrunkRegistrationsDeps) {}

  /** Follows the trunk list: starts new registrations, restarts changed ones, unregisters the rest. */
  sync(trunks: TrunkCarrier[]): void {
    if (this.closed) return;
    const wanted = new Map(
      trunks.filter((t) => t.enabled && t.auth === 'register' && t.registration).map((t) => [t.id, t]),
    );
    for (const [id, r] of this.byCarrier) {
      const t = wanted.get(id);
      if (t && sameAccount(r.carrier, t)) {
        r.carrier = t; // other settings (addresses, limits) need no new registration
        continue;
      }
      this.byCarrier.delete(id);
      // A changed account starts over below; a removed or disabled trunk shows off once unregistered.
      void r.stop().then(() => !t && !this.byCarrier.has(id) && this.d.status.setRegistration(id, OFF));
    }
    for (const [id, t] of wanted) {
      if (this.byCarrier.has(id)) continue;
      const r = new TrunkRegistrar(t, this.d);
      this.byCarrier.set(id, r);
      r.start();
    }
  }

  /**
   * The registration trunk an INVITE belongs to: its Request-URI user is that trunk's contact and it
   * comes from the address the registrar's host resolved to. Undefined for anyone else.
   */
  carrierByContact(user: string | undefined, source: string): TrunkCarrier | undefined {
    if (!user) return undefined;
    const src = stripIpv6Mapped(source);
    for (const r of this.byCarrier.values())
      if (r.contact === user && r.registrarAddress === src) return r.carrier;
    return undefined;
  }

  /** Whether `source` is the resolved address of a registrar we are registered with (the SIP edge's test). */
  isRegistrar(source: string): boolean {
    const src = stripIpv6Mapped(source);
    for (const r of this.byCarrier.values()) if (r.registrarAddress === src) return true;
    return false;
  }

  /** Unregisters everything (app close). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.byCarrier.values()];
    this.byCarrier.clear();
    // A registrar that does not answer must not hold the shutdown for a transaction's 32 s.
    const bound = new Promise<void>((r) => setTimeout(r, UNREGISTER_WAIT_MS).unref());
    await Promise.race([Promise.all(all.map((r) => r.stop())), bound]);
  }
}

/** One carrier's registration. */
export class TrunkRegistrar {
  readonly contact: string;
  /** The registrar's IP once resolved (inbound calls from it to our contact are the carrier's). */
  registrarAddress: string | null = null;
  private readonly callId: string;
  private cseq = 1;
  private failures = 0;
  private timer: TimerHandle | null = null;
  private stopped = false;
  private registered = false;
  private inFlight: Promise<void> | null = null;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(
    public carrier: TrunkCarrier,
    private readonly d: TrunkRegistrationsDeps,
  ) {
    this.contact = contactUser(carrier);
    this.callId = `${createHash('sha256').update(`${carrier.id}\0${Math.random()}`).digest('hex').slice(0, 24)}@parley`;
    this.clock = d.clock ?? systemClock;
    this.random = d.random ?? Math.random;
  }

  start(): void {
    this.set({ state: 'registering', lastError: null, expiresAt: null, nextAttemptAt: null });
    this.attempt();
  }

  /** Stops refreshing and unregisters when registered (Expires: 0). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = null;
    await this.inFlight?.catch(() => undefined);
    if (this.registered) {
      this.registered = false;
      await this.send(0).catch(() => undefined);
    }
  }

  private attempt(): void {
    this.timer = null;
    if (this.stopped) return;
    this.inFlight = this.register().finally(() => (this.inFlight = null));
  }

  private async register(): Promise<void> {
    const reg = this.carrier.registration!;
    let response: SipResponse;
    try {
      response = await this.send(reg.expires);
    } catch (err) {
      const status = (err as { status?: number }).status;
      return this.fail(
        status === 408 || status === 503
          ? registrationError(status, '')
          : `registrar unreachable (${(err as Error).message})`,
      );
    }
    if (this.stopped) return;
    if (response.status >= 200 && response.status < 300) {
      const granted = this.grantedExpires(response) ?? reg.expires;
      if (granted <= 0) return this.fail('the registrar kept no binding for our contact');
      this.failures = 0;
      this.registered = true;
      const now = Date.now();
      const after = refreshAfterS(granted);
      this.set({
        state: 'registered',
        lastError: null,
        expiresAt: now + granted * 1000,
        nextAttemptAt: now + after * 1000,
      });
      this.d.log.debug({ carrier: this.carrier.id, granted }, 'registered with the carrier');
      this.timer = this.clock.setTimer(after * 1000, () => this.attempt());
      return;
    }
    this.fail(registrationError(response.status, response.reason));
  }

  private fail(lastError: string): void {
    if (this.stopped) return;
    this.failures++;
    this.registered = false;
    const wait = retryAfterS(this.failures, this.d.retryMinS, this.d.retryMaxS, this.random);
    this.set({ state: 'failed', lastError, expiresAt: null, nextAttemptAt: Date.now() + wait * 1000 });
    this.d.log.warn({ carrier: this.carrier.id, error: lastError }, 'carrier registration failed');
    this.timer = this.clock.setTimer(wait * 1000, () => this.attempt());
  }

  private async send(expires: number): Promise<SipResponse> {
    const c = this.carrier;
    const reg = c.registration!;
    const address = (this.registrarAddress = await (this.d.resolve ?? resolveHost)(reg.registrar.host));
    const aor = `sip:${reg.username}@${reg.domain ?? reg.registrar.host}`;
    const transport = c.transport === 'udp' ? '' : `;transport=${c.transport}`;
    const { request, response } = await this.d.ua.request({
      method: 'REGISTER',
      target: `sip:${reg.domain ?? `${reg.registrar.host}:${reg.registrar.port}`}${transport}`,
      from: aor,
      to: aor,
      dest: { protocol: PROTOCOL[c.transport], address, port: reg.registrar.port },
      headers: [
        ['Contact', `<sip:${this.contact}@${this.d.localHost}${transport}>`],
        ['Expires', expires],
      ],
      credentials: { username: reg.authUsername ?? reg.username, password: reg.password },
      callId: this.callId,
      cseq: this.cseq,
    });
    this.cseq = request.cseq.seq + 1;
    return response;
  }

  /** The expiry granted to our contact: its `expires` parameter, else the Expires header. */
  private grantedExpires(res: SipResponse): number | null {
    try {
      for (const c of res.contact) {
        const user = (c.uri as { user?: string }).user;
        if (user !== this.contact) continue;
        const p = c.params.get('expires');
        if (p != null && /^\d+$/.test(p)) return Number(p);
      }
    } catch {
      // a malformed Contact in the answer: fall back to Expires
    }
    const e = res.get('Expires');
    return e !== undefined && /^\d+$/.test(e.trim()) ? Number(e.trim()) : null;
  }

  private set(r: RegistrationStatus): void {
    if (!this.stopped) this.d.status.setRegistration(this.carrier.id, r);
  }
}

async function resolveHost(host: string): Promise<string> {
  if (isIP(host)) return host;
  return (await lookup(host)).address;
}
