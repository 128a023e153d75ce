/**
 * Real-time credit control: may this call go through, and for how long?
 *
 * `authorise` answers with the longest duration the pool and credits allow now (`maxSeconds`) and
 * reserves only the first slice of it (`grantedSeconds`, e.g. 5 minutes, less when less is left): the
 * slice's pool minutes and credits are held atomically, so other calls of the tenant cannot spend them.
 * Before the grant runs out the call asks `extend` for the next slice; when that is refused, the call
 * must end at the end of its grant. `commit` with the real record charges the duration (never more than
 * the grant) and releases the rest; `release` frees everything of a call that never connected; a
 * reservation whose call vanished is released by `expireDue` once its expiry passes.
 *
 * Grants always end on a billing boundary (first increment + k * next increment) and include the
 * connection fee once credits are involved, so a call cut at its grant never owes more than was held:
 * the balance cannot go below zero, however many calls run at once.
 *
 * Choices where the issue is silent:
 * - Order of checks: emergency (always allowed, never billed, no reservation) > no_licence > no_rate >
 *   class_not_allowed > premium_blocked > insufficient_funds.
 * - A "calling licence" is an assigned plan whose services include "calling"; the classes a user may
 *   call are the union of the allowed classes of the user's plans.
 * - The sell deck is the tenant's own if set, else that of the user's earliest-assigned plan with one.
 * - The pool drawn is the caller's country (the record's or the tenant's) x the destination class x the
 *   month the call started in the tenant's time zone.
 * - Calls at a zero rate with no fee (toll-free), or wholly in a large pool, are capped at
 *   `maxCallSeconds` (default 4 hours) per grant chain.
 * - A reservation follows its call's life: it expires `graceSeconds` (default 180) after the call's last
 *   sign of life (authorisation, `keepalive`, a renewal), however long the call rings or runs. A call
 *   that vanishes is released a grace later; a keepalive or renewal refused because the reservation was
 *   released is what cuts a call that outlived it (SliceKeeper).
 */
import type { TenantScope } from '../directory/scope.ts';
import type { CallRecord } from './call-record.ts';
import { PeriodClock } from './billing-period.ts';
import type {
  CallContext,
  CloseDecision,
  CreditStore,
  ExtendDecision,
  OpenDecision,
  OpenSnapshot,
  PoolState,
} from './credit-store.ts';
import { isEmergencyShortCode, normaliseDestination, type DestinationClass } from './destination-class.ts';
import { BillingError, type RefusalCode } from './errors.ts';
import { boundaryAtOrBelow } from './increments.ts';
import { perMinuteCost, secondsAffordable, type Micros } from './money.ts';
import type { RateDeck, RateRow } from './rate-deck.ts';
import { rateCall, rateReserved, rateWithRow, type PoolKey, type RatedCall } from './rating.ts';
import type { Reservation } from './reservation.ts';
import { billingId as newId } from './ids.ts';

/** Where credit control finds decks (narrow: the deck catalogue). */
export interface DeckSource {
  deck(id: string): Promise<RateDeck | null>;
}

export interface CreditControlOptions {
  /** Seconds per slice (default 300). */
  sliceSeconds?: number;
  /** Longest call a grant chain may reach (default 4 h). */
  maxCallSeconds?: number;
  /** Seconds a reservation outlives its call's last sign of life (authorise, keepalive, extend; default 180). */
  graceSeconds?: number;
  now?: () => number;
}

export interface AuthoriseRequest {
  /** The caller's tenant. */
  scope: TenantScope;
  userId: string;
  /** E.164 (+442071234567) or a short code (112). */
  destination: string;
  /** The call's id, if telephony already has one. */
  callId?: string;
  /** The caller's country for pools (usage location); the tenant's country if absent. */
  callerCountry?: string;
}

export type Authorisation =
  | { ok: false; code: RefusalCode; message: string }
  | {
      ok: true;
      emergency: true;
      reservationId: null;
      grantedSeconds: null;
      maxSeconds: null;
      cls: 'emergency';
    }
  | {
      ok: true;
      emergency: false;
      reservationId: string;
      /** Seconds from answer the call may last on what is held now. */
      grantedSeconds: number;
      /** The longest duration pool and credits allow now (more slices must be reserved to reach it). */
      maxSeconds: number;
      cls: DestinationClass;
      matchedPrefix: string;
      deck: { id: string; version: number };
      ratePerMinute: Micros;
      connectionFee: Micros;
      firstIncrement: number;
      nextIncrement: number;
      heldPoolMinutes: number;
      heldCredits: Micros;
    };

/** A successful preview: the first slice `authorise` would reserve, but nothing is held. */
export type AuthorisationPreview = Omit<Extract<Authorisation, { emergency: false }>, 'reservationId'> & {
  reservationId: null;
};

export type Extension =
  | { ok: true; grantedSeconds: number; heldPoolMinutes: number; heldCredits: Micros }
  /** Refused: the call must end when `grantedSeconds` (unchanged) run out. */
  | { ok: false; code: RefusalCode; message: string; grantedSeconds: number };

/**
 * The longest duration, in seconds, that `poolMinutes` and `credits` pay for on `row`, before boundary
 * rounding. Pool minutes cover 60 s each; credits must first cover the connection fee.
 */
export function affordableSeconds(row: RateRow, poolMinutes: number, credits: Micros): number {
  const poolSeconds = poolMinutes * 60;
  if (credits < row.connectionFee) return poolSeconds;
  return poolSeconds + secondsAffordable(row.ratePerMinute, credits - row.connectionFee);
}

/** Credits needed for `seconds` (a billing boundary) when `poolMinutes` are held for it. */
export function creditsFor(row: RateRow, seconds: number, poolMinutes: number): Micros {
  const paid = seconds - Math.min(seconds, poolMinutes * 60);
  return paid > 0 ? row.connectionFee + perMinuteCost(row.ratePerMinute, paid) : 0;
}

export class CreditControl {
  private readonly slice: number;
  private readonly maxCall: number;
  private readonly grace: number;
  private readonly now: () => number;
  private readonly clock = new PeriodClock();

  constructor(
    private readonly store: CreditStore,
    private readonly decks: DeckSource,
    opts: CreditControlOptions = {},
  ) {
    this.slice = opts.sliceSeconds ?? 300;
    this.maxCall = opts.maxCallSeconds ?? 4 * 3600;
    this.grace = opts.graceSeconds ?? 180;
    this.now = opts.now ?? Date.now;
    if (!(this.slice >= 1 && this.maxCall >= 1 && this.grace >= 0))
      throw new RangeError('invalid credit-control options');
  }

  /** Refuses (coded) or reserves the first slice of a call. */
  async authorise(req: AuthoriseRequest): Promise<Authorisation> {
    // With reserve = true a success always carries its reservation.
    return (await this.evaluate(req, true)) as Authorisation;
  }

  /**
   * What `authorise` would answer now, reserving nothing: for the admin's "can this user call that
   * number, and for how long" and for tests. A success carries `reservationId: null`. Read-only: it
   * takes no lock and writes nothing (a preview must never queue behind, or slow, the calls it
   * describes), so two calls placed at once may each be granted less than their previews said.
   */
  async preview(req: AuthoriseRequest): Promise<Authorisation | AuthorisationPreview> {
    return this.evaluate(req, false);
  }

  private async evaluate(
    req: AuthoriseRequest,
    reserve: boolean,
  ): Promise<Authorisation | AuthorisationPreview> {
    const now = this.now();
    const digits = normaliseDestination(req.destination);
    if (digits === null)
      throw new BillingError(
        'invalid_destination',
        `"${req.destination}" is not an E.164 number or a short code`,
      );
    if (isEmergencyShortCode(digits)) return emergency();
    // A preview reads the context afresh: it never goes through `open`, which confirms a cached one.
    let ctx = await this.store.callContext(req.scope.tenantId, req.userId, !reserve);
    for (;;) {
      if (!ctx)
        throw new BillingError('not_found', `no enabled user ${req.userId} in tenant ${req.scope.tenantId}`);
      const out = await this.evaluateWith(ctx, req, reserve, now, digits);
      if (out !== STALE) return out;
      // The context came from the store's cache and was not confirmed current by `open`: decide again
      // on a fresh read (which `open` does not question, so this runs at most twice).
      ctx = await this.store.callContext(req.scope.tenantId, req.userId, true);
    }
  }

  /**
   * `evaluate` on one call context. With a cached context (it has a `stamp`), only an answer that went
   * through `open` is final: any other is STALE, as is one `open` found stale.
   */
  private async evaluateWith(
    ctx: CallContext,
    req: AuthoriseRequest,
    reserve: boolean,
    now: number,
    digits: string,
  ): Promise<Authorisation | AuthorisationPreview | typeof STALE> {
    const cached = ctx.stamp !== undefined;
    const deck = await this.sellDeck(ctx);
    const version = deck?.versionAt(now) ?? null;
    const row = version?.match(digits) ?? null;
    if (cached && !allowed(ctx, row)) return STALE;
    if (row?.cls === 'emergency') return emergency();
    const calling = ctx.plans.filter((p) => p.services.includes('calling'));
    if (calling.length === 0) return refuse('no_licence', 'the user holds no calling licence');
    if (!row || !version) return refuse('no_rate', `no rate for ${req.destination}`);
    if (!calling.some((p) => p.allowedClasses.includes(row.cls)))
      return refuse('class_not_allowed', `the user's plans do not allow ${row.cls} calls`);
    if (row.cls === 'premium' && !ctx.tenant.premiumEnabled)
      return refuse('premium_blocked', 'premium-rate destinations are blocked for this tenant');

    const poolKey: PoolKey = {
      country: req.callerCountry ?? ctx.tenant.country,
      cls: row.cls,
      period: this.clock.at(now, ctx.tenant.timeZone).key,
    };
    const quote = {
      cls: row.cls,
      matchedPrefix: row.prefix,
      deck: { id: version.deckId, version: version.version },
      ratePerMinute: row.ratePerMinute,
      connectionFee: row.connectionFee,
      firstIncrement: row.firstIncrement,
      nextIncrement: row.nextIncrement,
    };
    if (!reserve) {
      // Read-only: no lock, no write, and the answer is what `authorise` would grant on this snapshot.
      const slice = this.firstSlice(row, await this.store.peek(req.scope.tenantId, poolKey));
      if (!slice) return refuse('insufficient_funds', NO_FUNDS);
      const { maxSeconds, grantedSeconds, heldPoolMinutes, heldCredits } = slice;
      return {
        ok: true,
        emergency: false,
        reservationId: null,
        maxSeconds,
        grantedSeconds,
        heldPoolMinutes,
        heldCredits,
        ...quote,
      };
    }
    let maxSeconds = 0;
    const decision = await this.store.open(
      req.scope.tenantId,
      poolKey,
      (s): OpenDecision => {
        const slice = this.firstSlice(row, s);
        if (!slice) return { refuse: 'insufficient_funds', message: NO_FUNDS };
        maxSeconds = slice.maxSeconds;
        const reservation: Reservation = {
          id: newId('rsv'),
          tenantId: req.scope.tenantId,
          userId: req.userId,
          callId: req.callId ?? null,
          destination: req.destination,
          state: 'held',
          pool: slice.heldPoolMinutes > 0 ? poolKey : null,
          deckId: version.deckId,
          deckVersion: version.version,
          deckEffectiveFrom: version.effectiveFrom,
          rate: row,
          grantedSeconds: slice.grantedSeconds,
          heldPoolMinutes: slice.heldPoolMinutes,
          heldCredits: slice.heldCredits,
          createdAt: now,
          expiresAt: now + this.grace * 1000,
          closedAt: null,
        };
        return { reservation };
      },
      ctx.stamp,
    );
    if ('stale' in decision) return STALE;
    if ('refuse' in decision) return refuse(decision.refuse, decision.message);
    const r = decision.reservation;
    return {
      ok: true,
      emergency: false,
      reservationId: r.id,
      grantedSeconds: r.grantedSeconds,
      maxSeconds,
      heldPoolMinutes: r.heldPoolMinutes,
      heldCredits: r.heldCredits,
      ...quote,
    };
  }

  /**
   * The first slice a call on `row` gets from an account and pool: the longest duration allowed and the
   * slice reserved of it, with its pool minutes and credits; null when not even the first increment is
   * affordable. Pure, so `authorise` (inside the store's locked transaction) and `preview` (on a plain
   * read) decide the same way.
   */
  private firstSlice(
    row: RateRow,
    s: OpenSnapshot,
  ): { maxSeconds: number; grantedSeconds: number; heldPoolMinutes: number; heldCredits: Micros } | null {
    const poolFree = freeMinutes(s.pool);
    const maxSeconds = this.cap(affordableSeconds(row, poolFree, s.account.balance - s.account.held), row);
    const grantedSeconds = this.nextGrant(0, maxSeconds, row);
    if (grantedSeconds === 0) return null;
    const heldPoolMinutes = Math.min(poolFree, Math.ceil(grantedSeconds / 60));
    return {
      maxSeconds,
      grantedSeconds,
      heldPoolMinutes,
      heldCredits: creditsFor(row, grantedSeconds, heldPoolMinutes),
    };
  }

  /**
   * Reserves the next slice. The pool is the one of the call's start even if the month has turned.
   * A reservation that drew no pool at authorisation draws none later (its pool key is fixed then).
   */
  async extend(reservationId: string): Promise<Extension> {
    const now = this.now();
    const { reservation: before, decision } = await this.store.extend(reservationId, (s): ExtendDecision => {
      const r = s.reservation;
      if (r.state !== 'held')
        throw new BillingError('reservation_closed', `reservation ${r.id} is ${r.state}`);
      const poolTotal = r.heldPoolMinutes + (r.pool ? freeMinutes(s.pool) : 0);
      const limit = this.cap(
        affordableSeconds(r.rate, poolTotal, r.heldCredits + s.account.balance - s.account.held),
        r.rate,
      );
      const granted = this.nextGrant(r.grantedSeconds, limit, r.rate);
      if (granted <= r.grantedSeconds)
        return {
          refuse: 'insufficient_funds',
          message: 'no minutes and no credit for another slice: end the call at its grant',
        };
      const minutes = Math.max(r.heldPoolMinutes, Math.min(poolTotal, Math.ceil(granted / 60)));
      const credits = Math.max(r.heldCredits, creditsFor(r.rate, granted, minutes));
      return {
        grantedSeconds: granted,
        addPoolMinutes: minutes - r.heldPoolMinutes,
        addCredits: credits - r.heldCredits,
        expiresAt: Math.max(r.expiresAt, now + this.grace * 1000),
      };
    });
    if ('refuse' in decision)
      return {
        ok: false,
        code: decision.refuse,
        message: decision.message,
        grantedSeconds: before.grantedSeconds,
      };
    return {
      ok: true,
      grantedSeconds: decision.grantedSeconds,
      heldPoolMinutes: before.heldPoolMinutes + decision.addPoolMinutes,
      heldCredits: before.heldCredits + decision.addCredits,
    };
  }

  /**
   * The call is alive (ringing or connected): its reservation lives `graceSeconds` more. The call side
   * sends this well within the grace, from authorisation to commit (SliceKeeper does). Refused with
   * `reservation_closed` when the reservation was released meanwhile (the call outlived a silence, or
   * was committed): nothing is held for the call any more, so it must be cut now.
   */
  async keepalive(reservationId: string): Promise<{ ok: true } | { ok: false; code: 'reservation_closed' }> {
    const alive = await this.store.touch(reservationId, this.now() + this.grace * 1000);
    return alive ? { ok: true } : { ok: false, code: 'reservation_closed' };
  }

  /**
   * Charges a finished call: the real duration, capped at the grant, priced with the row quoted at
   * authorisation, drawing the held pool minutes first. Releases whatever was held beyond that.
   */
  async commit(reservationId: string, record: CallRecord): Promise<RatedCall> {
    const now = this.now();
    const { decision } = await this.store.close(reservationId, (s): CloseDecision => {
      const r = s.reservation;
      if (r.state !== 'held')
        throw new BillingError('reservation_closed', `reservation ${r.id} is ${r.state}`);
      if (record.tenantId !== r.tenantId)
        throw new BillingError('conflict', 'the record belongs to another tenant than the reservation');
      const rated = rateReserved(record, r);
      if (rated.amount > r.heldCredits)
        throw new Error(`bug: call ${record.id} costs ${rated.amount} but holds ${r.heldCredits}`);
      const draw = rated.pool?.minutes ?? 0;
      return {
        state: 'committed',
        at: now,
        charge: rated.amount,
        drawMinutes: draw,
        callId: record.id,
        rated,
        ledgerId: rated.amount > 0 ? newId('led') : null,
      };
    });
    return decision.rated as RatedCall;
  }

  /**
   * Records a call that went through no reservation: inbound calls, emergency calls, calls never
   * answered. They cost nothing and draw nothing, but their rated record (with its reason) is kept for
   * invoices and usage reports. A record that would cost something is refused with `conflict`: a
   * charged call must have been authorised and is charged by `commit`.
   */
  async recordUnreserved(record: CallRecord): Promise<RatedCall> {
    const digits = normaliseDestination(record.destination);
    let rated: RatedCall;
    if (
      record.direction === 'inbound' ||
      digits === null ||
      isEmergencyShortCode(digits) ||
      record.answeredAt === null
    ) {
      rated = rateWithRow(
        record,
        null,
        null,
        null,
        undefined,
        digits !== null && isEmergencyShortCode(digits),
      );
      if (record.direction === 'outbound' && record.answeredAt === null && !rated.cls)
        rated.reason = 'unanswered';
    } else {
      const ctx = record.userId ? await this.store.callContext(record.tenantId, record.userId, true) : null;
      const deck = ctx ? await this.sellDeck(ctx) : null;
      const version = deck?.versionAt(record.startedAt) ?? null;
      rated = rateCall(record, { version, pools: null });
      if (
        rated.amount > 0 ||
        (rated.reason !== 'emergency' && rated.reason !== 'zero_duration' && rated.reason !== 'free_rate')
      ) {
        throw new BillingError(
          'conflict',
          `call ${record.id} is chargeable (${rated.reason}): it must be committed through its reservation`,
        );
      }
    }
    await this.store.saveUncharged(rated, this.now());
    return rated;
  }

  /** Frees everything a call holds (it never connected, or was abandoned before answer). */
  async release(reservationId: string): Promise<void> {
    const now = this.now();
    await this.store.close(reservationId, (s): CloseDecision => {
      if (s.reservation.state !== 'held')
        throw new BillingError(
          'reservation_closed',
          `reservation ${reservationId} is ${s.reservation.state}`,
        );
      return {
        state: 'released',
        at: now,
        charge: 0,
        drawMinutes: 0,
        callId: null,
        rated: null,
        ledgerId: null,
      };
    });
  }

  /** Releases reservations whose call vanished (expiry passed without commit). Returns how many. */
  async expireDue(limit = 1000): Promise<number> {
    const now = this.now();
    let n = 0;
    for (const id of await this.store.dueReservations(now, limit)) {
      try {
        await this.store.close(id, (s): CloseDecision => {
          if (s.reservation.state !== 'held' || s.reservation.expiresAt > now)
            throw new BillingError('reservation_closed', 'no longer due');
          return {
            state: 'expired',
            at: now,
            charge: 0,
            drawMinutes: 0,
            callId: null,
            rated: null,
            ledgerId: null,
          };
        });
        n++;
      } catch (err) {
        // Committed or extended meanwhile by another process: not an error.
        if (!(err instanceof BillingError && err.code === 'reservation_closed')) throw err;
      }
    }
    return n;
  }

  /** Runs `expireDue` every `intervalMs`; returns a function that stops it. */
  startSweeper(intervalMs: number, onError: (err: unknown) => void = () => {}): () => void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      this.expireDue().then(
        () => (running = false),
        (err: unknown) => {
          running = false;
          onError(err);
        },
      );
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async sellDeck(ctx: CallContext): Promise<RateDeck | null> {
    const id = ctx.tenant.sellDeckId ?? ctx.plans.find((p) => p.sellDeckId !== null)?.sellDeckId ?? null;
    return id ? this.decks.deck(id) : null;
  }

  /** Caps an affordable duration at the longest call and rounds it down to a billing boundary. */
  private cap(seconds: number, row: RateRow): number {
    return boundaryAtOrBelow(Math.min(seconds, this.maxCall), row.firstIncrement, row.nextIncrement);
  }

  /**
   * The next cumulative grant after `held` seconds: one slice more, on a billing boundary, within
   * `limit` (itself a boundary). At least one increment when any fits; `held` when none does.
   */
  private nextGrant(held: number, limit: number, row: RateRow): number {
    if (limit <= held) return held;
    let t = boundaryAtOrBelow(Math.min(held + this.slice, limit), row.firstIncrement, row.nextIncrement);
    if (t <= held) t = held === 0 ? row.firstIncrement : held + row.nextIncrement;
    return t <= limit ? t : held;
  }
}

/** `evaluateWith`'s answer when its cached context must be read again. */
const STALE = Symbol('stale');

/**
 * Whether the call gets as far as `open` on this context: a deck row that is not emergency, a calling
 * licence allowing its class, and premium enabled if premium. (Answers short of `open` are never
 * given on a cached context.)
 */
function allowed(ctx: CallContext, row: RateRow | null): boolean {
  if (!row || row.cls === 'emergency') return false;
  if (row.cls === 'premium' && !ctx.tenant.premiumEnabled) return false;
  for (const p of ctx.plans)
    if (p.services.includes('calling') && p.allowedClasses.includes(row.cls)) return true;
  return false;
}

function freeMinutes(p: PoolState | null): number {
  return p ? Math.max(0, p.includedMinutes - p.usedMinutes - p.heldMinutes) : 0;
}

function refuse(code: RefusalCode, message: string): Authorisation {
  return { ok: false, code, message };
}

const NO_FUNDS = 'no minutes and not enough credit for the first increment';

function emergency(): Authorisation {
  return {
    ok: true,
    emergency: true,
    reservationId: null,
    grantedSeconds: null,
    maxSeconds: null,
    cls: 'emergency',
  };
}
