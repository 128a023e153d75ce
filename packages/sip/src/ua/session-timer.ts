/**
 * Session timers (RFC 4028): a dialog whose peer vanished without BYE ends anyway. The refresher
 * (`uac` or `uas`, negotiated per section 7 for the UAC and section 9 for the UAS) sends a
 * re-INVITE or UPDATE every half interval (section 10); the other side, hearing no refresh, sends
 * BYE at the interval minus min(32 s, interval/3) (section 10). Every 2xx to a refresh restarts
 * the interval on both sides.
 *
 * ```
 *           start(interval, weRefresh)
 *   +-------+ ---------------------> +---------+  refresh succeeded: restart
 *   | idle  |                        | running |<--------------------+
 *   +-------+ <--------------------- +---------+---------------------+
 *                     stop              | timer fires:
 *                                       |  refresher -> refresh()
 *                                       |  other     -> expired()
 * ```
 */
import type { Clock, TimerHandle } from '../clock.ts';
import type { HeaderValue, SipMessage, SipRequest } from '../message.ts';

export interface SessionTimerSettings {
  /** Interval we ask for or accept at most, seconds (RFC 4028 section 4; suggested 1800). */
  sessionExpires: number;
  /** Smallest interval we accept, seconds (Min-SE, section 5; at least 90). */
  minSE: number;
}

export type Refresher = 'uac' | 'uas';

/** The negotiated timer of a dialog, from our side. */
export interface NegotiatedTimer {
  interval: number;
  refresher: Refresher;
}

/** `Session-Expires: delta;refresher=x` (section 4). */
export function parseSessionExpires(
  v: string | undefined,
): { delta: number; refresher?: Refresher } | undefined {
  if (v === undefined) return undefined;
  const [d, ...params] = v.split(';').map((s) => s.trim());
  const delta = Number(d);
  if (!Number.isInteger(delta) || delta <= 0) return undefined;
  const r = params
    .find((p) => p.toLowerCase().startsWith('refresher='))
    ?.slice(10)
    .toLowerCase();
  return { delta, refresher: r === 'uac' || r === 'uas' ? r : undefined };
}

function supportsTimer(msg: SipMessage): boolean {
  return msg.values('supported').some((t) => t.trim().toLowerCase() === 'timer');
}

/**
 * The UAS side (section 9). Undefined: no session timer. `{ minSE }`: answer 422 with that
 * Min-SE (the request asked for less than we accept). Otherwise the headers for the 2xx and the
 * timer to run.
 */
export function negotiateUas(
  req: SipRequest,
  settings: SessionTimerSettings | undefined,
): { minSE: number } | { headers: Array<[string, HeaderValue]>; timer: NegotiatedTimer } | undefined {
  const se = parseSessionExpires(req.get('session-expires') ?? req.get('x'));
  const uacSupports = supportsTimer(req);
  if (!se) {
    // Section 9: a UAS may insert a timer the UAC did not ask for; it refreshes itself then
    // unless the UAC supports timers.
    if (!settings) return undefined;
    const refresher: Refresher = 'uas';
    return {
      headers: [['Session-Expires', `${settings.sessionExpires};refresher=${refresher}`]],
      timer: { interval: settings.sessionExpires, refresher },
    };
  }
  const ourMin = settings?.minSE ?? 90;
  if (settings && se.delta < ourMin && uacSupports) return { minSE: ourMin };
  const theirMin = Number(req.get('min-se')?.split(';')[0] ?? 90) || 90;
  const interval = Math.max(theirMin, Math.min(se.delta, settings?.sessionExpires ?? se.delta));
  const refresher: Refresher = se.refresher ?? (uacSupports ? 'uac' : 'uas');
  const headers: Array<[string, HeaderValue]> = [['Session-Expires', `${interval};refresher=${refresher}`]];
  // Section 9: with the UAC as refresher the 2xx requires the extension of it.
  if (refresher === 'uac') headers.push(['Require', 'timer']);
  return { headers, timer: { interval, refresher } };
}

/** Headers of our INVITE or refresh (section 7.1): Supported: timer, Session-Expires, Min-SE. */
export function uacTimerHeaders(
  settings: SessionTimerSettings,
  interval = settings.sessionExpires,
  refresher?: Refresher,
): Array<[string, HeaderValue]> {
  return [
    ['Session-Expires', refresher ? `${interval};refresher=${refresher}` : interval],
    ['Min-SE', settings.minSE],
  ];
}

/** The UAC side after a 2xx (section 7.2): no Session-Expires, no timer. */
export function negotiatedFrom2xx(res: SipMessage): NegotiatedTimer | undefined {
  const se = parseSessionExpires(res.get('session-expires') ?? res.get('x'));
  if (!se) return undefined;
  return { interval: se.delta, refresher: se.refresher ?? 'uac' };
}

/**
 * The running timer of one dialog (see the diagram above). `refresher` names a side of the
 * transaction that negotiated it, not of the dialog (section 4): `uac` is whoever sent that
 * INVITE, re-INVITE or UPDATE.
 */
export class SessionTimer {
  private handle: TimerHandle | undefined;
  /** The interval in force, seconds, and whether we send the refreshes. */
  current: { interval: number; weRefresh: boolean } | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly refresh: () => void,
    private readonly expired: () => void,
  ) {}

  get running(): boolean {
    return this.handle !== undefined;
  }

  get weRefresh(): boolean {
    return this.current?.weRefresh ?? false;
  }

  /** Starts (or restarts) after a 2xx; `weSentRequest`: we were the UAC of that transaction. */
  start(t: NegotiatedTimer, weSentRequest: boolean): void {
    this.stop();
    this.current = { interval: t.interval, weRefresh: (t.refresher === 'uac') === weSentRequest };
    const ms = t.interval * 1000;
    if (this.weRefresh) this.handle = this.clock.setTimer(ms / 2, () => this.fire(true));
    else this.handle = this.clock.setTimer(ms - Math.min(32_000, ms / 3), () => this.fire(false));
  }

  private fire(refresh: boolean): void {
    this.handle = undefined;
    if (refresh) this.refresh();
    else this.expired();
  }

  stop(): void {
    if (this.handle !== undefined) this.clock.clearTimer(this.handle);
    this.handle = undefined;
  }
}
