/**
 * Carrier health (issue 19): for every enabled carrier whose `healthCheck` is on, each of its
 * addresses is pinged with SIP OPTIONS (RFC 3261 section 11) every `trunkOptionsInterval` seconds,
 * and marked up or down on the status board (trunk-status.ts), which routing reads: a carrier with
 * every address down is not offered calls, and a call skips its down addresses (trunk-outbound.ts).
 *
 * ```
 *   OPTIONS ──▶ any final answer (200, and also 403, 404, 405, 483 ...: something there answers SIP) ─▶ alive
 *           ──▶ 408, 503, no answer before the next ping is due, transport error ─────────────────────▶ failed
 *   unknown ─ first alive ─▶ up;  up ─ `trunkOptionsDownAfter` failures in a row ─▶ down
 *   down ─ `trunkOptionsUpAfter` alive in a row ─▶ up     (the hysteresis: one lost ping changes nothing)
 * ```
 * A failed ping while the address is still up is shown as its `lastError` ("408: no answer to
 * OPTIONS"); the state changes only as above. Turning the check off, disabling or removing the
 * carrier, or changing its addresses or transport stops its pings and forgets their verdicts (its
 * addresses show `unknown` and are tried again); closing the app stops every ping.
 *
 * Time comes from a `Clock` (packages/sip) so unit tests run the pings on a fake one.
 */
import { systemClock, type Clock, type Peer, type TimerHandle } from '@parley/sip';
import type { SipRequest, SipResponse } from '@parley/sip';
import type { Logger } from 'pino';
import type { TrunkAddress, TrunkCarrier, TrunkTransport } from './carriers.ts';
import type { AddressState, TrunkStatusBoard } from './trunk-status.ts';

/** The one call of the user agent the health check needs (UserAgentCore.request). */
export interface OptionsSender {
  request(o: {
    method: string;
    target: string;
    from: string;
    to?: string;
    dest: Peer;
    headers?: Array<[string, string | number]>;
  }): Promise<{ request: SipRequest; response: SipResponse }>;
}

export interface TrunkHealthDeps {
  ua: OptionsSender;
  status: Pick<TrunkStatusBoard, 'setAddress' | 'clearAddresses'>;
  /** Our SIP host (`PARLEY_SIP_ADDRESS`), for the From of the pings. */
  localHost: string;
  /** Seconds between pings to one address; also how long a ping may go unanswered. */
  intervalS: number;
  downAfter: number;
  upAfter: number;
  clock?: Clock;
  log: Logger;
}

const PROTOCOL: Record<TrunkTransport, Peer['protocol']> = { udp: 'UDP', tcp: 'TCP', tls: 'TLS' };

/** A ping's verdict: alive, or failed with the words the operator reads. */
export type PingResult = { alive: true } | { alive: false; error: string };

/** What an OPTIONS answer (or its absence, `status` 408/503 without a response) says of the address. */
export function pingResult(status: number, reason: string, answered: boolean): PingResult {
  if (status === 408) return { alive: false, error: '408: no answer to OPTIONS' };
  if (status === 503)
    return {
      alive: false,
      error: answered
        ? `503 ${reason || 'Service Unavailable'}: the carrier's address is not taking calls`
        : 'unreachable (transport error: nothing listening, or no route)',
    };
  return { alive: true };
}

/** The next state of an address after a ping (the hysteresis). */
export function nextState(
  state: AddressState,
  inARow: { alive: number; failed: number },
  o: { downAfter: number; upAfter: number },
): AddressState {
  if (state === 'unknown') {
    if (inARow.alive >= 1) return 'up';
    return inARow.failed >= o.downAfter ? 'down' : 'unknown';
  }
  if (state === 'up') return inARow.failed >= o.downAfter ? 'down' : 'up';
  return inARow.alive >= o.upAfter ? 'up' : 'down';
}

function keyOf(c: TrunkCarrier, a: TrunkAddress): string {
  return `${c.id}\0${c.transport}\0${a.host.toLowerCase()}:${a.port}`;
}

/** Keeps one pinger per health-checked address of the enabled carriers, following the trunk list. */
export class TrunkHealth {
  private readonly pingers = new Map<string, AddressPinger>();
  private closed = false;

  constructor(private readonly d: TrunkHealthDeps) {}

  /** Addresses being pinged now (tests check that none are left). */
  get size(): number {
    return this.pingers.size;
  }

  /** Follows the trunk list: starts pings for new addresses, stops those of changed or removed ones. */
  sync(trunks: TrunkCarrier[]): void {
    if (this.closed) return;
    const wanted = new Map<string, { carrier: TrunkCarrier; address: TrunkAddress }>();
    for (const c of trunks)
      if (c.enabled && c.healthCheck)
        for (const a of c.addresses) wanted.set(keyOf(c, a), { carrier: c, address: a });
    const stale = new Set<string>();
    for (const [key, p] of this.pingers) {
      if (wanted.has(key)) continue;
      p.stop();
      this.pingers.delete(key);
      stale.add(p.carrierId);
    }
    // A carrier whose pings changed starts over from unknown (its verdicts were for other settings).
    for (const id of stale) this.d.status.clearAddresses(id);
    for (const [key, { carrier, address }] of wanted) {
      if (this.pingers.has(key)) continue;
      const p = new AddressPinger(carrier, address, this.d);
      this.pingers.set(key, p);
      p.start();
    }
  }

  /** Stops every ping (app close). */
  close(): void {
    this.closed = true;
    for (const p of this.pingers.values()) p.stop();
    this.pingers.clear();
  }
}

/** One address's pings and its hysteresis. */
class AddressPinger {
  readonly carrierId: string;
  private state: AddressState = 'unknown';
  private alive = 0;
  private failed = 0;
  private timer: TimerHandle | null = null;
  private stopped = false;
  private readonly clock: Clock;

  constructor(
    private readonly carrier: TrunkCarrier,
    private readonly address: TrunkAddress,
    private readonly d: TrunkHealthDeps,
  ) {
    this.carrierId = carrier.id;
    this.clock = d.clock ?? systemClock;
  }

  start(): void {
    void this.ping();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = null;
  }

  private async ping(): Promise<void> {
    this.timer = null;
    if (this.stopped) return;
    const result = await this.send();
    if (this.stopped) return;
    if (result.alive) {
      this.alive++;
      this.failed = 0;
    } else {
      this.failed++;
      this.alive = 0;
    }
    const before = this.state;
    this.state = nextState(before, { alive: this.alive, failed: this.failed }, this.d);
    this.d.status.setAddress(this.carrier.id, this.address, this.state, result.alive ? null : result.error);
    if (before !== this.state) {
      const at = { carrier: this.carrier.id, host: this.address.host, port: this.address.port };
      if (this.state === 'down')
        this.d.log.warn({ ...at, error: (result as { error: string }).error }, 'carrier address down');
      else this.d.log.info({ ...at, state: this.state }, 'carrier address up');
    }
    this.timer = this.clock.setTimer(this.d.intervalS * 1000, () => void this.ping());
  }

  /** One OPTIONS, given up on when the next ping is due. */
  private send(): Promise<PingResult> {
    const c = this.carrier;
    const a = this.address;
    const transport = c.transport === 'udp' ? '' : `;transport=${c.transport}`;
    return new Promise<PingResult>((resolve) => {
      const timer = this.clock.setTimer(this.d.intervalS * 1000, () => resolve(pingResult(408, '', false)));
      const done = (r: PingResult) => {
        this.clock.clearTimer(timer);
        resolve(r);
      };
      this.d.ua
        .request({
          method: 'OPTIONS',
          target: `sip:${a.host}:${a.port}${transport}`,
          to: `sip:${a.host}:${a.port}`,
          from: `sip:parley@${this.d.localHost}`,
          dest: { protocol: PROTOCOL[c.transport], address: a.host, port: a.port },
          headers: [['Accept', 'application/sdp']],
        })
        .then(
          ({ response }) => done(pingResult(response.status, response.reason, true)),
          (err: unknown) => {
            const status = (err as { status?: number }).status;
            done(
              status === 408 || status === 503
                ? pingResult(status, '', false)
                : { alive: false, error: `unreachable (${(err as Error).message})` },
            );
          },
        );
    });
  }
}
