/**
 * On-net calls in the records, on both engines (migration 021): a call across tenants is one record
 * per tenant, each marked on-net, each naming the other tenant's user by number only, with none of
 * their devices, not their id as the one who hung up, nor their Do not disturb; each user's history
 * and events show the number only. A call to a colleague's number is one internal record, on-net.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines, makeTenant, makeUser, startServer, type TestServer } from '../helpers/server.ts';
import { newId } from '../../src/ids.ts';
import { eventsOf, historyOf, type User } from './call-helpers.ts';

const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);
const A_NUMBER = '+442079460018';
const G_NUMBER = '+442079460777';

for (const engine of engines) {
  describe(`on-net call records (${engine})`, () => {
    let s: TestServer;
    let one: string, two: string;
    let alice: User, bob: User, gina: User;

    before(async () => {
      s = await startServer(engine);
      const t1 = await makeTenant(s, 'onnet');
      one = t1.id;
      alice = await makeUser(s, one, `alice@${t1.domain}`, 'user', 'Alice Archer');
      bob = await makeUser(s, one, `bob@${t1.domain}`, 'user', 'Bob Baker');
      const t2 = await makeTenant(s, 'othernet');
      two = t2.id;
      gina = await makeUser(s, two, `gina@${t2.domain}`, 'user', 'Gina Green');
    });
    after(() => s.close());

    const rows = (callId: string) =>
      s.app.storage.db
        .selectFrom('call_records')
        .selectAll()
        .where('call_id', '=', callId)
        .orderBy('direction')
        .execute();

    test('across tenants: a record each, on-net, the other party by number only, none of their devices or ids', async () => {
      const rec = s.app.callRecords;
      const callId = newId('call');
      await rec.opened({
        callId,
        caller: { tenantId: one, userId: alice.id, number: A_NUMBER },
        callee: { tenantId: two, userId: gina.id, number: G_NUMBER },
        callerDevice: 'ses/alice-1',
        video: false,
        at: T0,
        onNet: { typed: '020 7946 0777' },
      });
      await rec.ringing(callId, T0 + 100, ['ses/gina-1', 'sip/dev_gina/b/1']);
      await rec.answered(callId, T0 + 2_000, 'ses/gina-1');
      await rec.ended(callId, T0 + 12_000, 'hangup', gina.id);
      const [inbound, outbound] = await rows(callId);
      assert.deepEqual(
        [
          outbound!.tenant_id,
          outbound!.direction,
          outbound!.on_net,
          outbound!.caller_user_id,
          outbound!.callee_user_id,
          outbound!.callee_number,
          outbound!.callee_number_typed,
          outbound!.caller_device,
          outbound!.rung_devices,
          outbound!.answer_device,
          outbound!.ended_by,
          outbound!.end_reason,
          outbound!.carrier,
        ],
        [
          one,
          'outbound',
          1,
          alice.id,
          null,
          G_NUMBER,
          '020 7946 0777',
          'ses/alice-1',
          null,
          null,
          null,
          'hangup',
          null,
        ],
      );
      assert.deepEqual(
        [
          inbound!.tenant_id,
          inbound!.direction,
          inbound!.on_net,
          inbound!.caller_user_id,
          inbound!.caller_number,
          inbound!.callee_user_id,
          inbound!.callee_number_typed,
          inbound!.caller_device,
          inbound!.rung_devices,
          inbound!.answer_device,
          inbound!.ended_by,
        ],
        [
          two,
          'inbound',
          1,
          null,
          A_NUMBER,
          gina.id,
          null,
          null,
          JSON.stringify(['ses/gina-1', 'sip/dev_gina/b/1']),
          'ses/gina-1',
          gina.id,
        ],
      );
      const a = (await historyOf(s, alice)).calls.find((c) => c.callId === callId)!;
      assert.deepEqual(
        [a.direction, a.peer, a.onNet, a.durationSeconds],
        ['outgoing', { userId: null, displayName: null, address: null, number: G_NUMBER }, true, 10],
      );
      const g = (await historyOf(s, gina)).calls.find((c) => c.callId === callId)!;
      assert.deepEqual(
        [g.direction, g.peer, g.onNet],
        ['incoming', { userId: null, displayName: null, address: null, number: A_NUMBER }, true],
      );
      const aliceEvents = JSON.stringify(await eventsOf(s, alice));
      const ginaEvents = JSON.stringify(await eventsOf(s, gina));
      assert.ok(!aliceEvents.includes(gina.id) && !aliceEvents.includes('Gina'), aliceEvents);
      assert.ok(!ginaEvents.includes(alice.id) && !ginaEvents.includes('Alice'), ginaEvents);
    });

    test('across tenants, missed: the callee’s notice shows the number; the caller’s record hides Do not disturb', async () => {
      const rec = s.app.callRecords;
      const callId = newId('call');
      await rec.opened({
        callId,
        caller: { tenantId: one, userId: alice.id, number: null },
        callee: { tenantId: two, userId: gina.id, number: G_NUMBER },
        callerDevice: 'ses/alice-1',
        video: false,
        at: T0 + 60_000,
        onNet: { typed: '*67 020 7946 0777' },
      });
      await rec.ended(callId, T0 + 60_500, 'do_not_disturb', null);
      const [inbound, outbound] = await rows(callId);
      assert.equal(outbound!.end_reason, 'unavailable', 'Gina’s presence is not in Contoso’s record');
      assert.equal(inbound!.end_reason, 'do_not_disturb', 'Gina’s own record says why she missed it');
      assert.equal(inbound!.caller_number, null, 'withheld');
      const missed = (await eventsOf(s, gina, 'call.missed')).find(
        (e) => (e.data as { callId: string }).callId === callId,
      )!;
      assert.deepEqual((missed.data as { from: unknown }).from, {
        userId: null,
        displayName: null,
        address: null,
        number: null,
      });
    });

    test('a colleague’s number: one internal record, on-net, as any call between colleagues', async () => {
      const rec = s.app.callRecords;
      const callId = newId('call');
      await rec.opened({
        callId,
        caller: { tenantId: one, userId: alice.id, number: A_NUMBER },
        callee: { tenantId: one, userId: bob.id, number: '+442079460020' },
        callerDevice: 'ses/alice-1',
        video: false,
        at: T0 + 120_000,
        onNet: { typed: '020 7946 0020' },
      });
      await rec.ringing(callId, T0 + 120_100, ['ses/bob-1']);
      await rec.ended(callId, T0 + 125_000, 'declined', bob.id);
      const all = await rows(callId);
      assert.equal(all.length, 1);
      const r = all[0]!;
      assert.deepEqual(
        [r.direction, r.on_net, r.callee_user_id, r.rung_devices, r.ended_by, r.end_reason],
        ['internal', 1, bob.id, JSON.stringify(['ses/bob-1']), bob.id, 'declined'],
      );
      const b = (await historyOf(s, bob)).calls.find((c) => c.callId === callId)!;
      assert.equal(b.peer.displayName, 'Alice Archer');
      assert.equal(b.onNet, true);
    });

    test('calls that are not on-net say nothing of it', async () => {
      const rec = s.app.callRecords;
      const callId = newId('call');
      await rec.opened({
        callId,
        caller: { tenantId: one, userId: alice.id, number: null },
        callee: { tenantId: one, userId: bob.id, number: null },
        callerDevice: 'ses/alice-1',
        video: false,
        at: T0 + 180_000,
      });
      await rec.ended(callId, T0 + 181_000, 'cancelled', alice.id);
      assert.equal((await rows(callId))[0]!.on_net, 0);
      const a = (await historyOf(s, alice)).calls.find((c) => c.callId === callId)!;
      assert.equal('onNet' in a, false);
    });
  });
}
