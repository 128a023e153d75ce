/**
 * Credit control on both engines: refusals, the longest duration for a credit and a rate, slices
 * reserved and renewed, the call ended when the next slice is refused, commits and releases, expiry of
 * a vanished call's reservation, and many concurrent authorisations never overspending.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { BillingError } from '../../src/billing/errors.ts';
import type { Authorisation } from '../../src/billing/credit-control.ts';
import { ENGINES } from './storage-helper.ts';
import { T1, world, type World } from './billing-fixture.ts';
import { SliceKeeper, type Scheduler } from '../../src/billing/slice-keeper.ts';
import { fakeScheduler } from './fake-scheduler.ts';
import { call } from './fixtures.ts';

const US = '+12125550100'; // 1/1, 0.02/min, fee 0.10
const UK_MOBILE = '+447700900123'; // 30/6, 0.06/min, fee 0.05
const UK_FIXED = '+442071234567'; // 60/60, 0.01/min, fee 0.05

/**
 * Takes the write lock on t1's account from another connection (SQLite: BEGIN IMMEDIATE on a second
 * handle to the file; PostgreSQL: the account row FOR UPDATE); resolves to a function that lets go.
 */
async function holdWriteLock(w: World): Promise<() => Promise<void>> {
  if (w.t.storage.engine === 'sqlite') {
    const other = new SQLite(w.t.url.slice('sqlite:'.length));
    other.prepare('begin immediate').run();
    return async () => {
      other.prepare('rollback').run();
      other.close();
    };
  }
  const c = new pg.Client({ connectionString: w.t.url });
  await c.connect();
  await c.query('begin');
  await c.query("select * from billing_accounts where tenant_id = 't1' for update");
  return async () => {
    await c.query('rollback');
    await c.end();
  };
}

/** The fake scheduler, with credit control's injected clock following it. */
function fakeClockBridge(sched: ReturnType<typeof fakeScheduler>, w: World): Scheduler {
  return {
    now: () => sched.now(),
    set: (fn, ms) =>
      sched.set(() => {
        w.clock.now = sched.now();
        fn();
      }, ms),
    clear: (h) => sched.clear(h),
  };
}

function granted(a: Authorisation): Extract<Authorisation, { emergency: false }> {
  assert.ok(a.ok, `refused: ${a.ok ? '' : a.code}`);
  assert.ok(!a.emergency);
  return a;
}

for (const engine of ENGINES) {
  describe(`credit control on ${engine}`, () => {
    let w: World;
    before(async () => {
      w = await world(engine);
    });
    after(async () => {
      await w.close();
    });

    async function setCredit(micros: number): Promise<void> {
      const v = await w.billing.wallet.view(T1);
      const diff = micros - v.balance;
      if (diff > 0) await w.billing.wallet.topUp(T1, diff);
      if (diff < 0) await w.billing.wallet.adjust(T1, diff, 'test reset');
    }

    test('coded refusals: no licence, class not allowed, premium blocked, no rate', async () => {
      const auth = (userId: string, destination: string) =>
        w.billing.credit.authorise({ scope: T1, userId, destination });
      await setCredit(10_000_000);
      assert.deepEqual(pick(await auth('u-bare', UK_FIXED)), 'no_licence');
      assert.deepEqual(pick(await auth('u-none', UK_FIXED)), 'no_licence');
      assert.deepEqual(pick(await auth('u-dom', US)), 'class_not_allowed');
      assert.deepEqual(pick(await auth('u-prem', '+449012345678')), 'premium_blocked');
      assert.deepEqual(pick(await auth('u-payg', '+449012345678')), 'class_not_allowed');
      assert.deepEqual(pick(await auth('u-payg', '+81312345678')), 'no_rate');
      await w.billing.wallet.setOptions(T1, { premiumEnabled: true });
      const p = granted(await auth('u-prem', '+449012345678'));
      assert.equal(p.cls, 'premium');
      await w.billing.credit.release(p.reservationId);
      await w.billing.wallet.setOptions(T1, { premiumEnabled: false });
      await assert.rejects(
        auth('u-payg', 'not a number'),
        (e: unknown) => e instanceof BillingError && e.code === 'invalid_destination',
      );
    });

    test('emergency calls pass without licence, credit or reservation', async () => {
      await setCredit(0);
      const a = await w.billing.credit.authorise({ scope: T1, userId: 'u-bare', destination: '112' });
      assert.deepEqual(a, {
        ok: true,
        emergency: true,
        reservationId: null,
        grantedSeconds: null,
        maxSeconds: null,
        cls: 'emergency',
      });
      // A deck's emergency row counts too (u-payg has a deck through its plan).
      const b = await w.billing.credit.authorise({
        scope: T1,
        userId: 'u-payg',
        destination: '+4499912',
      });
      assert.ok(b.ok && b.emergency);
    });

    test('no minutes and no credit for the first increment (with its connection fee) is refused', async () => {
      // 30/6 at 0.06/min + 0.05 fee: 0.07 leaves 0.02 = 20 s < the 30 s first increment.
      await setCredit(70_000);
      assert.equal(
        pick(await w.billing.credit.authorise({ scope: T1, userId: 'u-payg', destination: UK_MOBILE })),
        'insufficient_funds',
      );
      // 0.08 leaves 0.03 = exactly 30 s.
      await setCredit(80_000);
      const a = granted(
        await w.billing.credit.authorise({ scope: T1, userId: 'u-payg', destination: UK_MOBILE }),
      );
      assert.equal(a.maxSeconds, 30);
      assert.equal(a.grantedSeconds, 30);
      assert.equal(a.heldCredits, 80_000);
      await w.billing.credit.release(a.reservationId);
    });

    test('the longest duration for a given credit and rate', async () => {
      // 1/1 at 0.02/min, fee 0.10, credit 1.00: 0.90 buys 2,700 s.
      await setCredit(1_000_000);
      const a = granted(await w.billing.credit.authorise({ scope: T1, userId: 'u-payg', destination: US }));
      assert.equal(a.maxSeconds, 2700);
      assert.equal(a.grantedSeconds, 300);
      assert.equal(a.heldCredits, 100_000 + 100_000);
      await w.billing.credit.release(a.reservationId);
      // 30/6 at 0.06/min, fee 0.05: 0.95 buys 950 s; the last boundary is 30 + 153 x 6 = 948 s.
      const b = granted(
        await w.billing.credit.authorise({ scope: T1, userId: 'u-payg', destination: UK_MOBILE }),
      );
      assert.equal(b.maxSeconds, 948);
      await w.billing.credit.release(b.reservationId);
      // Pool first: 10 domestic minutes (600 s) + 0.15 after the fee at 0.01/min (900 s) = 1,500 s.
      await setCredit(200_000);
      const c = granted(
        await w.billing.credit.authorise({ scope: T1, userId: 'u-dom', destination: UK_FIXED }),
      );
      assert.equal(c.maxSeconds, 1500);
      assert.equal(c.grantedSeconds, 300);
      assert.equal(c.heldPoolMinutes, 5);
      assert.equal(c.heldCredits, 0);
      await w.billing.credit.release(c.reservationId);
      // Less than a slice left: the first slice is what is left (0.15 - 0.10 fee = 150 s).
      await setCredit(150_000);
      const d = granted(await w.billing.credit.authorise({ scope: T1, userId: 'u-payg', destination: US }));
      assert.equal(d.grantedSeconds, 150);
      await w.billing.credit.release(d.reservationId);
    });

    test('calls without a reservation (inbound, emergency, unanswered) are recorded free; chargeable ones are refused', async () => {
      const inbound = call(UK_FIXED, 300, { tenantId: 't1', userId: 'u-dom', direction: 'inbound' });
      assert.equal((await w.billing.credit.recordUnreserved(inbound)).reason, 'inbound');
      const sos = await w.billing.credit.recordUnreserved(
        call('112', 900, { tenantId: 't1', userId: 'u-bare' }),
      );
      assert.deepEqual([sos.reason, sos.amount], ['emergency', 0]);
      const missed = await w.billing.credit.recordUnreserved(
        call(US, 20, { tenantId: 't1', userId: 'u-payg', answeredAt: null }),
      );
      assert.equal(missed.reason, 'unanswered');
      await assert.rejects(
        w.billing.credit.recordUnreserved(call(US, 20, { tenantId: 't1', userId: 'u-payg' })),
        (e: unknown) => e instanceof BillingError && e.code === 'conflict',
      );
      await assert.rejects(
        w.billing.credit.recordUnreserved(inbound),
        (e: unknown) => e instanceof BillingError && e.code === 'conflict',
      );
      const stored = await w.t.storage.db
        .selectFrom('billing_rated_calls')
        .select(['call_id', 'amount_micros'])
        .where('call_id', '=', inbound.id)
        .execute();
      assert.equal(stored.length, 1);
    });

    test("pools renew at the month's turn in the tenant's time zone", async () => {
      await setCredit(0);
      const saved = w.clock.now;
      try {
        // 31 Jul 23:55 in London (22:55 UTC, summer time): July's pool (10 minutes) pays a 10-minute call.
        w.clock.now = Date.UTC(2027, 6, 31, 22, 55);
        const nov = granted(
          await w.billing.credit.authorise({ scope: T1, userId: 'u-dom', destination: UK_FIXED }),
        );
        await w.billing.credit.extend(nov.reservationId);
        const rated = await w.billing.credit.commit(
          nov.reservationId,
          call(UK_FIXED, 600, { tenantId: 't1', userId: 'u-dom', startedAt: w.clock.now }),
        );
        assert.deepEqual([rated.pool?.period, rated.pool?.minutes], ['2027-07', 10]);
        assert.equal(
          pick(await w.billing.credit.authorise({ scope: T1, userId: 'u-dom', destination: UK_FIXED })),
          'insufficient_funds',
        );
        // 1 Aug 00:00:01 in London, still 31 July in UTC: August's pool is whole again.
        w.clock.now = Date.UTC(2027, 6, 31, 23, 0, 1);
        const dec = granted(
          await w.billing.credit.authorise({ scope: T1, userId: 'u-dom', destination: UK_FIXED }),
        );
        assert.equal(dec.maxSeconds, 600);
        await w.billing.credit.release(dec.reservationId);
        const nz = await w.billing.store.poolState('t1', {
          country: 'GB',
          cls: 'domestic',
          period: '2026-12',
        });
        assert.deepEqual(nz, { includedMinutes: 10, usedMinutes: 0, heldMinutes: 0 });
      } finally {
        w.clock.now = saved;
      }
    });

    test('a preview answers like authorise and holds nothing', async () => {
      await setCredit(1_000_000);
      const p = await w.billing.credit.preview({ scope: T1, userId: 'u-payg', destination: US });
      assert.ok(p.ok && !p.emergency);
      assert.deepEqual(
        [p.reservationId, p.maxSeconds, p.grantedSeconds, p.heldCredits],
        [null, 2700, 300, 200_000],
      );
      assert.equal((await w.billing.wallet.view(T1)).held, 0);
      const refused = await w.billing.credit.preview({ scope: T1, userId: 'u-dom', destination: US });
      assert.ok(!refused.ok && refused.code === 'class_not_allowed');
    });

    test('a preview is read-only: it answers while another writer holds the lock, and writes nothing', async () => {
      await setCredit(1_000_000);
      const release = await holdWriteLock(w);
      try {
        const p = await Promise.race([
          w.billing.credit.preview({ scope: T1, userId: 'u-payg', destination: US }),
          new Promise<'blocked'>((r) => setTimeout(() => r('blocked'), 3000).unref()),
        ]);
        assert.notEqual(p, 'blocked', 'the preview waited for the write lock');
        assert.ok(p !== 'blocked' && p.ok && !p.emergency);
        // What authorise would grant, not a refusal.
        assert.deepEqual([p.maxSeconds, p.grantedSeconds, p.heldCredits], [2700, 300, 200_000]);
      } finally {
        await release();
      }
      const before = await w.t.storage.db.selectFrom('billing_accounts').select('tenant_id').execute();
      await w.billing.credit.preview({ scope: T1, userId: 'u-payg', destination: US });
      assert.deepEqual(
        await w.t.storage.db.selectFrom('billing_accounts').select('tenant_id').execute(),
        before,
      );
    });

    test('slices are reserved and renewed; the call ends when the next slice is refused', async () => {
      await setCredit(1_000_000);
      const a = granted(await w.billing.credit.authorise({ scope: T1, userId: 'u-payg', destination: US }));
      const grants = [a.grantedSeconds];
      for (;;) {
        const e = await w.billing.credit.extend(a.reservationId);
        if (!e.ok) {
          assert.equal(e.code, 'insufficient_funds');
          assert.equal(e.grantedSeconds, 2700);
          break;
        }
        grants.push(e.grantedSeconds);
        assert.ok(grants.length < 20);
      }
      assert.deepEqual(grants, [300, 600, 900, 1200, 1500, 1800, 2100, 2400, 2700]);
      const held = await w.billing.wallet.view(T1);
      assert.equal(held.held, 1_000_000);
      assert.equal(held.available, 0);
      // The call is cut at its grant: 2,700 s, charged 0.10 + 0.90; the balance is exactly zero.
      const rated = await w.billing.credit.commit(
        a.reservationId,
        call(US, 2700.4, { tenantId: 't1', userId: 'u-payg', startedAt: w.clock.now }),
      );
      assert.equal(rated.amount, 1_000_000);
      const v = await w.billing.wallet.view(T1);
      assert.deepEqual([v.balance, v.held], [0, 0]);
    });

    test('commit charges the real duration and releases the rest; the ledger and rated call keep why', async () => {
      await setCredit(1_000_000);
      const a = granted(await w.billing.credit.authorise({ scope: T1, userId: 'u-payg', destination: US }));
      const record = call(US, 61, { tenantId: 't1', userId: 'u-payg', startedAt: w.clock.now });
      const rated = await w.billing.credit.commit(a.reservationId, record);
      // 0.10 + 61 s x 0.02 / 60 = 100,000 + 20,334
      assert.equal(rated.amount, 120_334);
      assert.equal(rated.matchedPrefix, '1');
      assert.deepEqual(rated.deck, { id: w.deckId, version: 1, effectiveFrom: 0 });
      const v = await w.billing.wallet.view(T1);
      assert.deepEqual([v.balance, v.held], [1_000_000 - 120_334, 0]);
      const [last] = await w.billing.wallet.ledger(T1, { limit: 1 });
      assert.equal(last.kind, 'call');
      assert.equal(last.amount, -120_334);
      assert.equal(last.reference, record.id);
      const stored = await w.t.storage.db
        .selectFrom('billing_rated_calls')
        .selectAll()
        .where('call_id', '=', record.id)
        .executeTakeFirstOrThrow();
      assert.equal(Number(stored.amount_micros), 120_334);
      assert.equal(JSON.parse(stored.explanation).reason, 'credits');
      await assert.rejects(
        w.billing.credit.commit(a.reservationId, record),
        (e: unknown) => e instanceof BillingError && e.code === 'reservation_closed',
      );
    });

    test('a zero-second answered call costs nothing, fee included', async () => {
      await setCredit(1_000_000);
      const a = granted(await w.billing.credit.authorise({ scope: T1, userId: 'u-payg', destination: US }));
      const rated = await w.billing.credit.commit(
        a.reservationId,
        call(US, 0.5, { tenantId: 't1', userId: 'u-payg' }),
      );
      assert.equal(rated.amount, 0);
      assert.equal(rated.reason, 'zero_duration');
      assert.equal((await w.billing.wallet.view(T1)).balance, 1_000_000);
    });

    test('pool minutes are held per call, drawn in whole minutes at commit, the rest released', async () => {
      await setCredit(0);
      const month = '2026-11';
      const a = granted(
        await w.billing.credit.authorise({ scope: T1, userId: 'u-dom', destination: UK_FIXED }),
      );
      const b = granted(
        await w.billing.credit.authorise({ scope: T1, userId: 'u-dom', destination: UK_FIXED }),
      );
      assert.deepEqual([a.heldPoolMinutes, b.heldPoolMinutes], [5, 5]);
      assert.equal(
        pick(await w.billing.credit.authorise({ scope: T1, userId: 'u-dom', destination: UK_FIXED })),
        'insufficient_funds',
      );
      const rated = await w.billing.credit.commit(
        a.reservationId,
        call(UK_FIXED, 61, { tenantId: 't1', userId: 'u-dom' }),
      );
      assert.deepEqual(rated.pool, {
        country: 'GB',
        cls: 'domestic',
        period: month,
        minutes: 2,
        seconds: 120,
      });
      assert.equal(rated.amount, 0);
      assert.equal(rated.connectionFeeCharged, false);
      const c = granted(
        await w.billing.credit.authorise({ scope: T1, userId: 'u-dom', destination: UK_FIXED }),
      );
      assert.equal(c.grantedSeconds, 180);
      const pool = await w.billing.store.poolState('t1', { country: 'GB', cls: 'domestic', period: month });
      assert.deepEqual(pool, { includedMinutes: 10, usedMinutes: 2, heldMinutes: 8 });
      await w.billing.credit.release(b.reservationId);
      await w.billing.credit.release(c.reservationId);
    });

    test("a vanished call's reservation is released by the timeout", async () => {
      await setCredit(1_000_000);
      const a = granted(await w.billing.credit.authorise({ scope: T1, userId: 'u-payg', destination: US }));
      assert.equal((await w.billing.wallet.view(T1)).held, 200_000);
      // Not yet: no sign of the call for the grace (60 s) has not passed.
      w.clock.now += 59_000;
      assert.equal(await w.billing.credit.expireDue(), 0);
      w.clock.now += 1_000;
      assert.equal(await w.billing.credit.expireDue(), 1);
      const v = await w.billing.wallet.view(T1);
      assert.deepEqual([v.balance, v.held], [1_000_000, 0]);
      assert.equal((await w.billing.store.reservation(a.reservationId))?.state, 'expired');
      await assert.rejects(
        w.billing.credit.extend(a.reservationId),
        (e: unknown) => e instanceof BillingError && e.code === 'reservation_closed',
      );
    });

    test('a reservation follows its call: ringing 400 s with keepalives keeps it, silence releases it and cuts the call', async () => {
      await setCredit(1_000_000);
      const sched = fakeScheduler();
      // The keeper's clock is credit control's clock; the sweep runs every 10 s of it.
      // The keeper's calls reach the real store: each step waits for their answers before sweeping.
      const inflight = new Set<Promise<unknown>>();
      const track = <T>(p: Promise<T>): Promise<T> => {
        inflight.add(p);
        void p.then(
          () => inflight.delete(p),
          () => inflight.delete(p),
        );
        return p;
      };
      const settle = async () => {
        while (inflight.size) {
          await Promise.allSettled([...inflight]);
          await new Promise((r) => setImmediate(r));
        }
      };
      const credit = {
        keepalive: (id: string) => track(w.billing.credit.keepalive(id)),
        extend: (id: string) => track(w.billing.credit.extend(id)),
      };
      const step = async (ms: number) => {
        for (let t = 0; t < ms; t += 10_000) {
          await sched.advance(10_000);
          await settle();
          w.clock.now = sched.now();
          await w.billing.credit.expireDue();
        }
      };
      w.clock.now = sched.now();
      const a = granted(await w.billing.credit.authorise({ scope: T1, userId: 'u-payg', destination: US }));
      const cut: Array<{ code: string }> = [];
      const keeper = new SliceKeeper(credit, a.reservationId, a.grantedSeconds, null, {
        keepaliveSeconds: 20,
        onCutoff: (r) => cut.push(r),
        scheduler: fakeClockBridge(sched, w),
      });
      await step(400_000);
      assert.equal((await w.billing.store.reservation(a.reservationId))?.state, 'held');
      assert.equal((await w.billing.wallet.view(T1)).held, a.heldCredits);
      keeper.answered();
      await step(300_000);
      assert.equal((await w.billing.store.reservation(a.reservationId))?.state, 'held');
      assert.ok(keeper.grantedSeconds > a.grantedSeconds, 'renewed after answer');
      assert.equal(cut.length, 0);
      keeper.stop();
      await w.billing.credit.release(a.reservationId);

      // A call whose side goes silent: released a grace later, and its next keepalive cuts it.
      const b = granted(await w.billing.credit.authorise({ scope: T1, userId: 'u-payg', destination: US }));
      await step(60_000);
      assert.equal((await w.billing.store.reservation(b.reservationId))?.state, 'expired');
      assert.deepEqual(await w.billing.credit.keepalive(b.reservationId), {
        ok: false,
        code: 'reservation_closed',
      });
      const late = new SliceKeeper(credit, b.reservationId, b.grantedSeconds, null, {
        keepaliveSeconds: 20,
        onCutoff: (r) => cut.push(r),
        scheduler: fakeClockBridge(sched, w),
      });
      await step(20_000);
      assert.equal(late.currentState, 'cut');
      assert.deepEqual(cut, [{ code: 'reservation_closed', grantedSeconds: b.grantedSeconds }]);
      assert.equal((await w.billing.wallet.view(T1)).held, 0);
    });

    test('20 concurrent authorisations never overspend: the slice rule decides how many pass', async () => {
      // Each first slice on US is 300 s = 0.10 fee + 0.10; 0.75 covers three, then 0.15 = 150 s, then nothing.
      await setCredit(750_000);
      const all = await Promise.all(
        Array.from({ length: 20 }, () =>
          w.billing.credit.authorise({ scope: T1, userId: 'u-payg', destination: US }),
        ),
      );
      const ok = all.filter((a) => a.ok).map(granted);
      assert.deepEqual(
        ok.map((a) => a.grantedSeconds).sort((x, y) => x - y),
        [150, 300, 300, 300],
      );
      assert.ok(all.filter((a) => !a.ok).every((a) => !a.ok && a.code === 'insufficient_funds'));
      for (const a of ok)
        await w.billing.credit.commit(
          a.reservationId,
          call(US, a.grantedSeconds + 30, { tenantId: 't1', userId: 'u-payg' }),
        );
      const v = await w.billing.wallet.view(T1);
      assert.deepEqual([v.balance, v.held], [0, 0]);
    });
  });
}

function pick(a: Authorisation): string {
  return a.ok ? 'ok' : a.code;
}
