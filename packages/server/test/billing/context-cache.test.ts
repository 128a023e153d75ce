/**
 * Credit control's cached call contexts and pool sizes (SQLite store) never answer from stale facts:
 * a change made through kysely on the shared connection, by the store itself, or by another connection
 * to the same file is seen by the very next authorisation. Run on both engines (PostgreSQL reads afresh
 * every time; the answers must be the same).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import SQLite from 'better-sqlite3';
import type { Authorisation } from '../../src/billing/credit-control.ts';
import { ENGINES } from './storage-helper.ts';
import { T1, world, type World } from './billing-fixture.ts';

const UK_FIXED = '+442071234567'; // domestic: u-dom's plan has 10 pool minutes per seat
const US = '+12125550100'; // international

const code = (a: Authorisation) => (a.ok ? 'ok' : a.code);

for (const engine of ENGINES) {
  describe(`credit-control context cache on ${engine}`, () => {
    let w: World;
    before(async () => {
      w = await world(engine);
    });
    after(async () => {
      await w.close();
    });
    const auth = (userId: string, destination: string) =>
      w.billing.credit.authorise({ scope: T1, userId, destination });
    /** What a call would get, through the cached path: authorised, then released at once. */
    const preview = async (userId: string, destination: string) => {
      const a = await auth(userId, destination);
      if (a.ok && !a.emergency) await w.billing.credit.release(a.reservationId);
      return a;
    };

    test('an assignment removed or added through the catalogue shows at once', async () => {
      const a = await auth('u-dom', UK_FIXED);
      assert.equal(code(a), 'ok');
      if (a.ok && !a.emergency) await w.billing.credit.release(a.reservationId);
      await w.billing.plans.unassign(T1, 'u-dom', w.plans.domestic);
      assert.equal(code(await auth('u-dom', UK_FIXED)), 'no_licence');
      await w.billing.plans.assign(T1, 'u-dom', w.plans.domestic);
      const b = await auth('u-dom', UK_FIXED);
      assert.equal(code(b), 'ok');
      if (b.ok && !b.emergency) await w.billing.credit.release(b.reservationId);
    });

    test('seats bought or sold change the pool the next authorisation sees', async () => {
      const before = await preview('u-dom', UK_FIXED);
      assert.ok(before.ok && !before.emergency);
      assert.equal(before.maxSeconds, 10 * 60);
      await w.billing.plans.setSeats(T1, w.plans.domestic, 3);
      const more = await preview('u-dom', UK_FIXED);
      assert.ok(more.ok && !more.emergency);
      assert.equal(more.maxSeconds, 30 * 60);
      await w.billing.plans.setSeats(T1, w.plans.domestic, 1);
      const fewer = await preview('u-dom', UK_FIXED);
      assert.ok(fewer.ok && !fewer.emergency);
      assert.equal(fewer.maxSeconds, 10 * 60);
    });

    test('a user disabled behind credit control is refused at once', async () => {
      assert.equal(code(await preview('u-dom', UK_FIXED)), 'ok');
      await w.t.storage.db.updateTable('users').set({ enabled: 0 }).where('id', '=', 'u-dom').execute();
      await assert.rejects(auth('u-dom', UK_FIXED), /no enabled user/);
      await w.t.storage.db.updateTable('users').set({ enabled: 1 }).where('id', '=', 'u-dom').execute();
      assert.equal(code(await preview('u-dom', UK_FIXED)), 'ok');
    });

    if (engine === 'sqlite') {
      test('a change committed by another connection to the file shows at once', async () => {
        await w.billing.wallet.topUp(T1, 10_000_000);
        assert.equal(code(await preview('u-payg', US)), 'ok');
        const other = new SQLite(w.t.url.slice('sqlite:'.length));
        try {
          other.pragma('busy_timeout = 5000');
          other.prepare('delete from billing_assignments where user_id = ?').run('u-payg');
          assert.equal(code(await preview('u-payg', US)), 'no_licence');
          other
            .prepare(
              'insert into billing_assignments (tenant_id, user_id, plan_id, assigned_at) values (?, ?, ?, ?)',
            )
            .run('t1', 'u-payg', w.plans.payg, w.clock.now);
          assert.equal(code(await preview('u-payg', US)), 'ok');
          // Pool sizes too: another process sells the domestic seat.
          assert.equal((await preview('u-dom', UK_FIXED)).ok, true);
          other.prepare('update billing_licences set seats = 0 where plan_id = ?').run(w.plans.domestic);
          const p = await preview('u-dom', UK_FIXED);
          assert.ok(p.ok && !p.emergency);
          assert.equal(p.heldPoolMinutes, 0);
          other.prepare('update billing_licences set seats = 1 where plan_id = ?').run(w.plans.domestic);
          const q = await preview('u-dom', UK_FIXED);
          assert.ok(q.ok && !q.emergency);
          assert.equal(q.heldPoolMinutes, 5);
        } finally {
          other.close();
        }
      });
    }
  });
}
