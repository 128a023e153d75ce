/**
 * The call records on both engines, driven through the sink call control uses (`app.callRecords`) and
 * read through the history routes: a call's record from placing to end, the users' `call.missed` and
 * `call.ended` events, history paging and filters, the missed-call badge, and the walls between users
 * and between tenants.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CallHistoryEntry } from '@parley/protocol';
import { engines, makeTenant, makeUser, startServer, type TestServer } from '../helpers/server.ts';
import { newId } from '../../src/ids.ts';
import type { CallOpened } from '../../src/calls/record-sink.ts';
import { eventsOf, historyOf, placed, type User } from './call-helpers.ts';

const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);

for (const engine of engines) {
  describe(`call records (${engine})`, () => {
    let s: TestServer;
    let tenant: string;
    let alice: User, bob: User, carol: User;

    before(async () => {
      s = await startServer(engine);
      const t = await makeTenant(s, 'calls');
      tenant = t.id;
      alice = await makeUser(s, t.id, `alice@${t.domain}`, 'user', 'Alice Archer');
      bob = await makeUser(s, t.id, `bob@${t.domain}`, 'user', 'Bob Baker');
      carol = await makeUser(s, t.id, `carol@${t.domain}`, 'user', 'Carol Cole');
    });
    after(() => s.close());

    test('an answered call: its record from placing to hang-up, in both histories, with events', async () => {
      const rec = s.app.callRecords;
      const call = placed(tenant, alice, bob, T0, true);
      await rec.opened(call);
      await rec.ringing(call.callId, T0 + 200, ['bob-phone', 'bob-laptop']);
      await rec.answered(call.callId, T0 + 2_000, 'bob-laptop');
      await rec.ended(call.callId, T0 + 64_700, 'hangup', bob.id);

      const row = await s.app.storage.db
        .selectFrom('call_records')
        .selectAll()
        .where('call_id', '=', call.callId)
        .executeTakeFirstOrThrow();
      assert.equal(row.tenant_id, tenant);
      assert.equal(row.direction, 'internal');
      assert.equal(row.caller_user_id, alice.id);
      assert.equal(row.callee_user_id, bob.id);
      assert.equal(row.caller_device, `dev-${alice.id}`);
      assert.deepEqual(JSON.parse(row.rung_devices!), ['bob-phone', 'bob-laptop']);
      assert.equal(row.answer_device, 'bob-laptop');
      assert.equal(row.carrier, null);
      assert.equal(row.video, 1);
      assert.deepEqual([row.placed_at, row.ringing_at, row.answered_at, row.ended_at].map(Number), [
        T0,
        T0 + 200,
        T0 + 2_000,
        T0 + 64_700,
      ]);
      assert.equal(row.disposition, 'answered');
      assert.equal(row.end_reason, 'hangup');
      assert.equal(row.ended_by, bob.id);

      const a = (await historyOf(s, alice)).calls.find((c) => c.callId === call.callId)!;
      assert.deepEqual(a, {
        callId: call.callId,
        direction: 'outgoing',
        disposition: 'answered',
        endReason: 'hangup',
        peer: { userId: bob.id, displayName: 'Bob Baker', address: bob.address, number: null },
        video: true,
        startedAt: new Date(T0).toISOString(),
        answeredAt: new Date(T0 + 2_000).toISOString(),
        endedAt: new Date(T0 + 64_700).toISOString(),
        durationSeconds: 62,
        seen: true,
      } satisfies CallHistoryEntry);
      const b = (await historyOf(s, bob)).calls.find((c) => c.callId === call.callId)!;
      assert.equal(b.direction, 'incoming');
      assert.equal(b.peer.displayName, 'Alice Archer');
      assert.equal(b.durationSeconds, 62);

      for (const [u, direction] of [
        [alice, 'outgoing'],
        [bob, 'incoming'],
      ] as const)
        assert.deepEqual(
          (await eventsOf(s, u, 'call.ended')).map((e) => e.data),
          [{ callId: call.callId, direction, disposition: 'answered', durationSeconds: 62 }],
        );
      assert.deepEqual(await eventsOf(s, bob, 'call.missed'), [], 'an answered call is not missed');
    });

    test('unanswered calls: missed for the callee (with a notice) unless declined or failed', async () => {
      const rec = s.app.callRecords;
      const cases = [
        ['no_answer', 'missed', 'missed', true],
        ['cancelled', 'cancelled', 'missed', true],
        ['unavailable', 'missed', 'missed', true],
        ['do_not_disturb', 'missed', 'missed', true],
        ['busy', 'busy', 'missed', true],
        ['declined', 'declined', 'declined', false],
        ['failed', 'failed', 'failed', false],
      ] as const;
      const ids: string[] = [];
      let at = T0 + 3_600_000;
      for (const [reason] of cases) {
        const call = placed(tenant, carol, alice, (at += 60_000));
        ids.push(call.callId);
        await rec.opened(call);
        if (reason !== 'unavailable' && reason !== 'do_not_disturb')
          await rec.ringing(call.callId, at + 100, ['alice-phone']);
        await rec.ended(call.callId, at + 30_000, reason, reason === 'cancelled' ? carol.id : null);
      }
      const mine = (await historyOf(s, alice)).calls;
      const theirs = (await historyOf(s, carol)).calls;
      cases.forEach(([reason, callerSees, calleeSees], i) => {
        const a = mine.find((c) => c.callId === ids[i])!;
        const c = theirs.find((x) => x.callId === ids[i])!;
        assert.equal(c.disposition, callerSees, `${reason}: the caller's disposition`);
        assert.equal(a.disposition, calleeSees, `${reason}: the callee's disposition`);
        assert.equal(a.endReason, reason);
        assert.equal(a.durationSeconds, 0);
        assert.equal(a.answeredAt, null);
      });
      const notices = await eventsOf(s, alice, 'call.missed');
      assert.deepEqual(
        notices.map((e) => e.data.reason),
        cases.filter((c) => c[3]).map((c) => c[0]),
      );
      assert.deepEqual(notices[0]!.data.from, {
        userId: carol.id,
        displayName: 'Carol Cole',
        address: carol.address,
        number: null,
      });
      assert.equal(notices[0]!.data.at, new Date(T0 + 3_660_000).toISOString(), 'when the call came');
      assert.deepEqual(await eventsOf(s, carol, 'call.missed'), [], 'the caller missed nothing');
      assert.equal((await eventsOf(s, carol, 'call.ended')).length, cases.length);
    });

    test('the missed-call badge counts unseen missed calls; seen up to a call, then all', async () => {
      const first = await historyOf(s, alice, '?filter=missed');
      assert.equal(first.unseenMissed, 5);
      assert.equal(first.calls.length, 5);
      assert.ok(first.calls.every((c) => c.disposition === 'missed' && c.direction === 'incoming'));
      assert.ok(first.calls.every((c) => !c.seen));
      // The third newest and everything older: three seen, the two newest still unseen.
      const upTo = first.calls[2]!.callId;
      const r = await s.http.post('/api/calls/history/seen', { upTo }, { token: alice.token });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { unseenMissed: 2 });
      const after = await historyOf(s, alice, '?filter=missed');
      assert.deepEqual(
        after.calls.map((c) => c.seen),
        [false, false, true, true, true],
      );
      const all = await s.http.post('/api/calls/history/seen', {}, { token: alice.token });
      assert.deepEqual(all.json, { unseenMissed: 0 });
      assert.equal((await historyOf(s, alice)).unseenMissed, 0);
      assert.equal((await historyOf(s, bob)).unseenMissed, 0, 'bob never missed a call');
    });

    test('history pages back newest first, ties broken by call id, with a next cursor', async () => {
      const t = await makeTenant(s, 'paging');
      const dan = await makeUser(s, t.id, `dan@${t.domain}`);
      const eve = await makeUser(s, t.id, `eve@${t.domain}`);
      const rec = s.app.callRecords;
      const calls: CallOpened[] = [];
      for (let i = 0; i < 7; i++) {
        // Two pairs placed at the same millisecond; dan calls and is called in turn.
        const at = T0 + Math.floor(i / 2) * 1000 + (i >= 4 ? 10_000 : 0);
        const c = i % 2 ? placed(t.id, eve, dan, at) : placed(t.id, dan, eve, at);
        calls.push(c);
        await rec.opened(c);
        await rec.answered(c.callId, at + 10, 'dev');
        await rec.ended(c.callId, at + 5_010, 'hangup', dan.id);
      }
      // A call still ringing is not in the history; one answered and going on is, without an end.
      const ringing = placed(t.id, eve, dan, T0 + 99_000);
      await rec.opened(ringing);
      await rec.ringing(ringing.callId, T0 + 99_100, ['dan-phone']);
      const going = placed(t.id, dan, eve, T0 + 98_000);
      await rec.opened(going);
      await rec.answered(going.callId, T0 + 98_500, 'eve-phone');

      const expected = [...calls]
        .sort((a, b) => b.at - a.at || (a.callId < b.callId ? 1 : -1))
        .map((c) => c.callId);
      const seen: string[] = [];
      let page = await historyOf(s, dan, '?limit=3');
      assert.equal(page.calls[0]!.callId, going.callId);
      assert.equal(page.calls[0]!.endedAt, null);
      assert.equal(page.calls[0]!.disposition, 'answered');
      assert.equal(page.calls[0]!.durationSeconds, 0);
      seen.push(...page.calls.slice(1).map((c) => c.callId));
      const sizes = [page.calls.length];
      while (page.next) {
        page = await historyOf(s, dan, `?limit=3&before=${page.next}`);
        sizes.push(page.calls.length);
        seen.push(...page.calls.map((c) => c.callId));
      }
      assert.deepEqual(sizes, [3, 3, 2]);
      assert.deepEqual(seen, expected, 'every call once, newest first');
      assert.ok(!seen.includes(ringing.callId));
      const kinds = (await historyOf(s, dan, '?limit=200')).calls.map((c) => c.direction);
      assert.deepEqual(
        kinds.slice(1),
        [...calls]
          .sort((a, b) => b.at - a.at || (a.callId < b.callId ? 1 : -1))
          .map((c) => (c.caller.userId === dan.id ? 'outgoing' : 'incoming')),
      );
      assert.equal(page.next, null);
      await rec.ended(ringing.callId, T0 + 120_000, 'no_answer', null);
      await rec.ended(going.callId, T0 + 130_000, 'hangup', eve.id);
    });

    test('bad queries get coded errors', async () => {
      for (const q of ['?limit=0', '?limit=201', '?filter=odd', '?before=not%20an%20id', '?extra=1']) {
        const r = await s.http.get(`/api/calls/history${q}`, { token: alice.token });
        assert.equal(r.status, 400, `${q}: ${r.text}`);
        assert.equal((r.json as { error: { code: string } }).error.code, 'validation_failed');
      }
      const unknown = await s.http.get(`/api/calls/history?before=${newId('call')}`, { token: alice.token });
      assert.equal(unknown.status, 404);
      assert.deepEqual((unknown.json as { error: { field: string } }).error.field, 'before');
      const bad = await s.http.post('/api/calls/history/seen', { upTo: 7 }, { token: alice.token });
      assert.equal(bad.status, 400, bad.text);
      const none = await s.http.get('/api/calls/history', {});
      assert.equal(none.status, 401);
      // An API key acts for the tenant, not for a person: it has no calls of its own.
      const key = await s.app.auth.createApiKey(tenant, 'history key', 'user', null);
      for (const r of [
        await s.http.get('/api/calls/history', { token: key.secret }),
        await s.http.post('/api/calls/history/seen', {}, { token: key.secret }),
      ]) {
        assert.equal(r.status, 403, r.text);
        assert.equal((r.json as { error: { code: string } }).error.code, 'forbidden');
      }
    });

    test('walls: a user sees only their own calls, never a colleague’s nor another tenant’s', async () => {
      const rec = s.app.callRecords;
      const other = await makeTenant(s, 'othercalls');
      const zed = await makeUser(s, other.id, `zed@${other.domain}`);
      const yan = await makeUser(s, other.id, `yan@${other.domain}`);
      const foreign = placed(other.id, zed, yan, T0 + 7_200_000);
      await rec.opened(foreign);
      await rec.ended(foreign.callId, T0 + 7_230_000, 'no_answer', null);
      const between = placed(tenant, alice, bob, T0 + 7_300_000);
      await rec.opened(between);
      await rec.ended(between.callId, T0 + 7_330_000, 'cancelled', alice.id);

      assert.ok((await historyOf(s, yan)).calls.some((c) => c.callId === foreign.callId));
      for (const u of [alice, bob, carol]) {
        const h = await historyOf(s, u, '?limit=200');
        assert.ok(!h.calls.some((c) => c.callId === foreign.callId), 'no other tenant’s call');
      }
      const c = await historyOf(s, carol, '?limit=200');
      assert.ok(!c.calls.some((x) => x.callId === between.callId), 'no colleague’s call');
      for (const [u, id] of [
        [alice, foreign.callId],
        [carol, between.callId],
      ] as const) {
        const page = await s.http.get(`/api/calls/history?before=${id}`, { token: u.token });
        assert.equal(page.status, 404, 'a call of someone else is no cursor');
        const seen = await s.http.post('/api/calls/history/seen', { upTo: id }, { token: u.token });
        assert.equal(seen.status, 404);
      }
      // Marking your own calls seen never touches another's badge.
      const before = (await historyOf(s, bob)).unseenMissed;
      assert.equal(before, 1);
      await s.http.post('/api/calls/history/seen', {}, { token: yan.token });
      await s.http.post('/api/calls/history/seen', {}, { token: carol.token });
      assert.equal((await historyOf(s, bob)).unseenMissed, 1);
      assert.equal((await eventsOf(s, carol, 'call.ended')).length, 7, 'carol told only of her calls');
      assert.deepEqual(await eventsOf(s, zed, 'call.missed'), []);
      assert.equal((await eventsOf(s, yan, 'call.missed')).length, 1);
    });

    test('a call across tenants (by number, later issues) keeps a record per tenant, each by number only', async () => {
      const rec = s.app.callRecords;
      const other = await makeTenant(s, 'numbers');
      const olga = await makeUser(s, other.id, `olga@${other.domain}`, 'user', 'Olga Orr');
      const call: CallOpened = {
        callId: newId('call'),
        caller: { tenantId: tenant, userId: alice.id, number: '+441632960001' },
        callee: { tenantId: other.id, userId: olga.id, number: '+441632960002' },
        callerDevice: 'alice-phone',
        video: false,
        at: T0 + 8_000_000,
      };
      await rec.opened(call);
      await rec.ended(call.callId, call.at + 20_000, 'no_answer', null);
      const rows = await s.app.storage.db
        .selectFrom('call_records')
        .select([
          'tenant_id',
          'direction',
          'caller_user_id',
          'callee_user_id',
          'caller_number',
          'callee_number',
        ])
        .where('call_id', '=', call.callId)
        .orderBy('direction', 'desc')
        .execute();
      assert.deepEqual(rows, [
        {
          tenant_id: tenant,
          direction: 'outbound',
          caller_user_id: alice.id,
          callee_user_id: null,
          caller_number: '+441632960001',
          callee_number: '+441632960002',
        },
        {
          tenant_id: other.id,
          direction: 'inbound',
          caller_user_id: null,
          callee_user_id: olga.id,
          caller_number: '+441632960001',
          callee_number: '+441632960002',
        },
      ]);
      const byNumber = { userId: null, displayName: null, address: null };
      const mine = (await historyOf(s, alice)).calls.find((c) => c.callId === call.callId)!;
      assert.deepEqual(mine.peer, { ...byNumber, number: '+441632960002' });
      const hers = (await historyOf(s, olga)).calls.find((c) => c.callId === call.callId)!;
      assert.deepEqual(
        hers.peer,
        { ...byNumber, number: '+441632960001' },
        'no directory data across the wall',
      );
      assert.equal(hers.disposition, 'missed');
      const [notice] = await eventsOf(s, olga, 'call.missed');
      assert.deepEqual(notice!.data.from, { ...byNumber, number: '+441632960001' });
      assert.equal(
        (await eventsOf(s, alice, 'call.ended')).filter((e) => e.data.callId === call.callId).length,
        1,
      );
    });

    test('a call from a carrier (the caller a number, no user) is one inbound record with its carrier leg', async () => {
      const rec = s.app.callRecords;
      const call: CallOpened = {
        callId: newId('call'),
        caller: { tenantId: tenant, userId: null, number: '+447700900123' },
        callee: { tenantId: tenant, userId: carol.id, number: null },
        callerDevice: 'trunk/car_a/1',
        video: false,
        at: T0 + 8_500_000,
      };
      await rec.opened(call);
      await rec.carrierLeg(call.callId, { carrier: 'car_a', carrierCodec: 'PCMA' });
      await rec.ringing(call.callId, call.at + 1, ['carol-phone']);
      await rec.ended(call.callId, call.at + 20_000, 'no_answer', null);
      await rec.carrierLeg(call.callId, { sipEndCode: 480, sipEndText: 'Temporarily Unavailable' });
      const rows = await s.app.storage.db
        .selectFrom('call_records')
        .select([
          'tenant_id',
          'direction',
          'caller_user_id',
          'caller_number',
          'callee_user_id',
          'carrier',
          'carrier_codec',
          'sip_end_code',
          'sip_end_text',
        ])
        .where('call_id', '=', call.callId)
        .execute();
      assert.deepEqual(rows, [
        {
          tenant_id: tenant,
          direction: 'inbound',
          caller_user_id: null,
          caller_number: '+447700900123',
          callee_user_id: carol.id,
          carrier: 'car_a',
          carrier_codec: 'PCMA',
          sip_end_code: 480,
          sip_end_text: 'Temporarily Unavailable',
        },
      ]);
      const hers = (await historyOf(s, carol)).calls.find((c) => c.callId === call.callId)!;
      assert.deepEqual(hers.peer, {
        userId: null,
        displayName: null,
        address: null,
        number: '+447700900123',
      });
      assert.equal(hers.disposition, 'missed');
    });

    test("a call's writes keep their order even when none waits for the last", async () => {
      const rec = s.app.callRecords;
      const calls = Array.from({ length: 20 }, (_, i) => placed(tenant, bob, carol, T0 + 9_000_000 + i));
      await Promise.all(
        calls.flatMap((c) => [
          rec.opened(c),
          rec.ringing(c.callId, c.at + 1, ['carol-phone']),
          rec.answered(c.callId, c.at + 2, 'carol-phone'),
          rec.ended(c.callId, c.at + 3_002, 'hangup', bob.id),
        ]),
      );
      const rows = await s.app.storage.db
        .selectFrom('call_records')
        .select(['ended_at', 'answered_at', 'ringing_at', 'disposition'])
        .where(
          'call_id',
          'in',
          calls.map((c) => c.callId),
        )
        .execute();
      assert.equal(rows.length, 20);
      for (const r of rows) {
        assert.equal(r.disposition, 'answered');
        assert.ok(r.ended_at !== null && r.ringing_at !== null && r.answered_at !== null);
      }
    });
  });
}
