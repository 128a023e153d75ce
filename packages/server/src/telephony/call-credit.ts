/**
 * Credit control on the path of every outbound phone call (issue 20 item 3): billing's engine
 * (billing/credit-control.ts, billing/slice-keeper.ts) wired to the trunk leg (trunk-outbound.ts).
 *
 * ```
 *   route()  ──authorise──▶ refused: ParleyError (insufficient_funds, no_licence, no_rate, ...)
 *      │                     (browser: the place refused with words; phone: a SIP final answer, Reason)
 *      ▼ grant (reservation, grantedSeconds) travels with the NumberRoute
 *   device() ── no line free ──▶ release (free)
 *      ▼
 *   call.incoming ──▶ the reservation names the call; SliceKeeper: keepalives while it rings
 *   200 OK ─────────▶ the grant's clock starts; slices renewed `renewBefore` before it runs out
 *   grant over ─────▶ onCutoff: BYE to the carrier, the call ended with "The call was cut off: ..."
 *   close() ────────▶ answered: commit the real duration (carrier 200 to close); else release (free)
 * ```
 * Emergency numbers: `authorise` answers `emergency: true` with no reservation: never cut, never billed.
 *
 * Crash safety: a server killed mid-call leaves its reservations held. At the next start the call
 * records it left open are closed at their last-alive time (calls/call-records.ts `closeOrphans`);
 * `settleCrashedCalls` then commits each held reservation whose call's record is closed against that
 * record (at most the real, closed duration; unanswered: released). A reservation whose call never got
 * as far as a record expires a grace after its last keepalive (the billing sweeper).
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { ParleyError, type ErrorCode } from '@parley/protocol';
import type { CallRecord } from '../billing/call-record.ts';
import type { Authorisation, CreditControl } from '../billing/credit-control.ts';
import { BillingError } from '../billing/errors.ts';
import { realScheduler as defaultScheduler, SliceKeeper, type Scheduler } from '../billing/slice-keeper.ts';
import type { CallGrant } from '../calls/call-control-deps.ts';
import { trustedScope } from '../directory/scope.ts';
import type { StorageHandle } from '../storage/db.ts';
import type { Database } from '../storage/schema.ts';

export type { CallGrant } from '../calls/call-control-deps.ts';

/** What the caller hears of a cut call (the call view's words). */
export const CUT_OFF_WORDS = 'The call was cut off: your credit ran out.';

export interface CallCreditDeps {
  credit: Pick<CreditControl, 'authorise' | 'extend' | 'keepalive' | 'commit' | 'release'>;
  /** Writes the call's id on its reservation, so a restart can settle it against the call's record. */
  linkCall?(reservationId: string, callId: string): Promise<void>;
  /** Ask for the next slice this many seconds before the grant ends (`PARLEY_BILLING_RENEW_BEFORE`). */
  renewBeforeSeconds: number;
  /** Seconds between keepalives of a call's reservation (`PARLEY_BILLING_KEEPALIVE`). */
  keepaliveSeconds: number;
  /**
   * Seconds before the cut of a call whose next slice was refused that the caller is warned
   * (`PARLEY_BILLING_CUT_WARNING`; the leg's `onWarning`: a tone); at the refusal when less is left.
   */
  warnBeforeSeconds?: number;
  /** The keeper's timers and clock (tests pass a fake). */
  scheduler?: Scheduler;
  now?: () => number;
  log: Logger;
}

/** Words of a refusal, with the number called. */
function refusalWords(code: string, e164: string): string {
  switch (code) {
    case 'insufficient_funds':
      return `Not enough credit to call ${e164}.`;
    case 'no_licence':
      return `You have no calling licence, so ${e164} cannot be called.`;
    case 'no_rate':
      return `Calls to ${e164} have no price, so they are not allowed.`;
    case 'class_not_allowed':
      return `Your plan does not allow calls to ${e164}.`;
    case 'premium_blocked':
      return `Calls to premium-rate numbers such as ${e164} are blocked for your organisation.`;
    default:
      return `${e164} cannot be called.`;
  }
}

/**
 * The Q.850 cause (RFC 3326 `Reason`) a phone is told beside the SIP status of a billing refusal:
 * 21 call rejected (no credit), 50 facility not subscribed (no licence), 52 outgoing calls barred
 * (class or premium), 3 no route to destination (no rate).
 */
export const Q850_CAUSE: Record<string, number> = {
  insufficient_funds: 21,
  no_licence: 50,
  class_not_allowed: 52,
  premium_blocked: 52,
  no_rate: 3,
};

/** The `Reason` header value for a refused place, when its code is a billing refusal. */
export function reasonHeader(code: string, words: string): string | null {
  const cause = Q850_CAUSE[code];
  if (cause === undefined) return null;
  return `Q.850;cause=${cause};text="${words.replace(/["\\\r\n]/g, '')}"`;
}

/**
 * Seconds a grant waits for its trunk leg (`leg` or `abandon`) before it is released: a place refused
 * after routing (the caller's call limit, the record not stored) never rings, and must not hold credit
 * until the reservation's grace runs out. At least this, or the keepalive interval if longer.
 */
export const UNUSED_GRANT_SECONDS = 10;

const realScheduler: Scheduler = {
  now: Date.now,
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class CallCredit {
  private readonly now: () => number;
  private readonly sched: Scheduler;
  /** Grants not yet taken by a trunk leg, by reservation id: their release timers. */
  private readonly unused = new Map<string, unknown>();

  constructor(private readonly d: CallCreditDeps) {
    this.now = d.now ?? Date.now;
    this.sched = d.scheduler ?? realScheduler;
  }

  /** The grant is taken (a leg, or abandoned): no release timer any more. True if it was waiting. */
  private take(grant: CallGrant | undefined): boolean {
    const id = grant?.reservationId;
    if (!id) return false;
    const timer = this.unused.get(id);
    if (timer === undefined) return false;
    this.sched.clear(timer);
    this.unused.delete(id);
    return true;
  }

  private release(id: string, why: string): void {
    this.d.credit
      .release(id)
      .catch((err: unknown) => this.d.log.warn({ err, reservation: id }, `release (${why}) failed`));
  }

  /**
   * Authorises a call of `caller` to `e164` before anything rings: the grant, or a coded ParleyError
   * (field `to`) whose words name the number.
   */
  async authorise(
    caller: { tenantId: string; userId: string },
    e164: string,
    callerCountry?: string,
  ): Promise<CallGrant> {
    const at = this.now();
    let a: Authorisation;
    try {
      a = await this.d.credit.authorise({
        scope: trustedScope(caller.tenantId),
        userId: caller.userId,
        destination: e164,
        callerCountry,
      });
    } catch (err) {
      if (err instanceof BillingError && err.code === 'invalid_destination')
        throw new ParleyError('invalid_number', `${e164} is not a number that can be called.`, {
          field: 'to',
        });
      throw err;
    }
    if (!a.ok) throw new ParleyError(a.code as ErrorCode, refusalWords(a.code, e164), { field: 'to' });
    if (a.emergency)
      return {
        reservationId: null,
        grantedSeconds: null,
        maxSeconds: null,
        authorisedAt: at,
        destination: e164,
        callerCountry,
      };
    this.d.log.debug(
      { reservation: a.reservationId, granted: a.grantedSeconds, max: a.maxSeconds, to: e164 },
      'call authorised',
    );
    const id = a.reservationId;
    const waitS = Math.max(UNUSED_GRANT_SECONDS, this.d.keepaliveSeconds);
    this.unused.set(
      id,
      this.sched.set(() => {
        if (!this.unused.delete(id)) return;
        this.release(id, 'the call never rang');
      }, waitS * 1000),
    );
    return {
      reservationId: a.reservationId,
      grantedSeconds: a.grantedSeconds,
      maxSeconds: a.maxSeconds,
      authorisedAt: at,
      destination: e164,
      callerCountry,
    };
  }

  /** The route never got a trunk leg (every line in use): what it holds is freed. */
  abandon(grant: CallGrant | undefined): void {
    if (this.take(grant)) this.release(grant!.reservationId!, 'no line');
  }

  /**
   * The credit side of one trunk leg, from the call's id on: `onCutoff` ends the call when its grant
   * is over. Null for a call with nothing reserved (an emergency call, or no grant: never cut).
   */
  leg(
    caller: { tenantId: string; userId: string },
    grant: CallGrant | undefined,
    callId: string,
    onCutoff: (words: string) => void,
    onWarning?: () => void,
  ): CreditLeg | null {
    if (!grant?.reservationId || grant.grantedSeconds === null) return null;
    // Taken late (released meanwhile), the leg's first keepalive is refused and cuts the call.
    this.take(grant);
    return new CreditLeg(this.d, this.now, caller, grant, callId, onCutoff, onWarning);
  }
}

/** One call's reservation kept alive, renewed, cut at the grant, and settled at the call's end. */
export class CreditLeg {
  private readonly keeper: SliceKeeper;
  private answeredAt: number | null = null;
  private settled = false;
  private readonly reservationId: string;
  /** A call cut at its grant lasted at least the grant (answer + grant), whatever the clock said. */
  private cutAt: number | null = null;
  /** The warning's timer, once the last slice was refused. */
  private warning: unknown = null;

  constructor(
    private readonly d: CallCreditDeps,
    private readonly now: () => number,
    private readonly caller: { tenantId: string; userId: string },
    private readonly grant: CallGrant,
    private readonly callId: string,
    onCutoff: (words: string) => void,
    onWarning?: () => void,
  ) {
    this.reservationId = grant.reservationId!;
    this.d
      .linkCall?.(this.reservationId, callId)
      .catch((err: unknown) =>
        d.log.warn({ err, reservation: this.reservationId }, 'reservation not linked to its call'),
      );
    this.keeper = new SliceKeeper(d.credit, this.reservationId, grant.grantedSeconds!, null, {
      renewBeforeSeconds: d.renewBeforeSeconds,
      keepaliveSeconds: d.keepaliveSeconds,
      scheduler: d.scheduler,
      // No more slices: the caller hears the warning `warnBeforeSeconds` before the cut.
      onEnding: (r) => {
        if (!onWarning) return;
        const sched = d.scheduler ?? defaultScheduler;
        const inMs = r.endsAt - (d.warnBeforeSeconds ?? 10) * 1000 - sched.now();
        this.warning = sched.set(
          () => {
            this.warning = null;
            if (!this.settled) onWarning();
          },
          Math.max(0, inMs),
        );
      },
      onCutoff: (r) => {
        // Cut at its grant, the call lasted exactly the grant: its timer may fire a millisecond
        // early by the wall clock, which whole-second rating would round down to a second less.
        if (r.code !== 'reservation_closed' && this.answeredAt !== null)
          this.cutAt = this.answeredAt + r.grantedSeconds * 1000;
        d.log.info(
          { call: callId, reservation: this.reservationId, code: r.code, granted: r.grantedSeconds },
          'credit ran out: the call is cut',
        );
        onCutoff(CUT_OFF_WORDS);
      },
    });
  }

  /** Seconds from the answer the call may last on what it holds now. */
  get grantedSeconds(): number {
    return this.keeper.grantedSeconds;
  }

  /** The carrier answered (its 200 OK): the grant's clock starts. */
  answered(at: number = this.now()): void {
    if (this.answeredAt !== null || this.settled) return;
    this.answeredAt = at;
    this.keeper.answered(at);
  }

  /**
   * The call ended at `at`: an answered call commits its real duration (capped at the grant by
   * billing), an unanswered one releases everything (free). Once; failures are logged (the sweeper,
   * or the next start's settling, frees what stays held).
   */
  async ended(at: number = this.now()): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    this.keeper.stop();
    if (this.warning !== null) (this.d.scheduler ?? defaultScheduler).clear(this.warning);
    const id = this.reservationId;
    try {
      if (this.answeredAt === null) await this.d.credit.release(id);
      else {
        const rated = await this.d.credit.commit(id, this.record(Math.max(at, this.cutAt ?? at)));
        this.d.log.debug({ call: this.callId, reservation: id, amount: rated.amount }, 'call charged');
      }
    } catch (err) {
      this.d.log.warn({ err, call: this.callId, reservation: id }, 'the call could not be settled');
    }
  }

  private record(endedAt: number): CallRecord {
    return {
      id: this.callId,
      tenantId: this.caller.tenantId,
      userId: this.caller.userId,
      direction: 'outbound',
      destination: this.grant.destination,
      startedAt: this.grant.authorisedAt,
      answeredAt: this.answeredAt,
      endedAt: Math.max(endedAt, this.answeredAt ?? endedAt),
      ...(this.grant.callerCountry ? { callerCountry: this.grant.callerCountry } : {}),
    };
  }
}

/** `linkCall` on storage: the reservation's `call_id`, set once. */
export function linkCallOn(storage: StorageHandle): (reservationId: string, callId: string) => Promise<void> {
  return async (reservationId, callId) => {
    await storage.write(async (tx) => {
      await tx
        .updateTable('billing_reservations')
        .set({ call_id: callId })
        .where('id', '=', reservationId)
        .where('call_id', 'is', null)
        .execute();
    });
  };
}

/**
 * At start, after `closeOrphans`: each held reservation whose call's record is closed (a server
 * stopped mid-call) is settled against that record: committed at most the record's closed duration
 * (answer to its last-alive end), released when the call was never answered. Resolves to how many.
 */
export async function settleCrashedCalls(
  db: Kysely<Database>,
  credit: Pick<CreditControl, 'commit' | 'release'>,
  log: Logger,
): Promise<number> {
  const rows = await db
    .selectFrom('billing_reservations as r')
    .innerJoin('call_records as c', (j) =>
      j.onRef('c.call_id', '=', 'r.call_id').onRef('c.tenant_id', '=', 'r.tenant_id'),
    )
    .select([
      'r.id as id',
      'r.call_id as callId',
      'r.tenant_id as tenantId',
      'r.user_id as userId',
      'r.destination as destination',
      'r.created_at as createdAt',
      'c.answered_at as answeredAt',
      'c.ended_at as endedAt',
    ])
    .where('r.state', '=', 'held')
    .where('c.ended_at', 'is not', null)
    .execute();
  let n = 0;
  for (const r of rows) {
    try {
      if (r.answeredAt === null) await credit.release(r.id);
      else {
        const answeredAt = Number(r.answeredAt);
        const rated = await credit.commit(r.id, {
          id: r.callId!,
          tenantId: r.tenantId,
          userId: r.userId,
          direction: 'outbound',
          destination: r.destination,
          startedAt: Number(r.createdAt),
          answeredAt,
          endedAt: Math.max(answeredAt, Number(r.endedAt)),
        });
        log.info({ call: r.callId, reservation: r.id, amount: rated.amount }, 'a crashed call was settled');
      }
      n++;
    } catch (err) {
      if (!(err instanceof BillingError && err.code === 'reservation_closed'))
        log.warn({ err, call: r.callId, reservation: r.id }, 'a crashed call could not be settled');
    }
  }
  return n;
}
