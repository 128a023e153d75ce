/**
 * A call out to a phone number in the records, on both engines: the callee is a number (no user), so
 * the record says `outbound`; the trunk leg's columns (carrier, number as typed, codecs, SIP end)
 * are written as it learns them, chained with the call's other writes; the caller's history shows
 * the number; another tenant's user sees nothing of it.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines, makeTenant, makeUser, startServer, type TestServer } from '../helpers/server.ts';
import { newId } from '../../src/ids.ts';
import { eventsOf, historyOf, type User } from './call-helpers.ts';

const T0 = Date.UTC(2026, 11, 2, 9, 0, 0);

for (const engine of engines) {
  describe(`outbound call records (${engine})`, () => {
    let s: TestServer;
    let tenant: string;
    let alice: User, olga: User;

    before(async () => {
      s = await startServer(engine);
      const t = await makeTenant(s, 'dialout');
      tenant = t.id;
      alice = await makeUser(s, t.id, `alice@${t.domain}`, 'user', 'Alice Archer');
      const other = await makeTenant(s, 'elsewhere');
      olga = await makeUser(s, other.id, `olga@${other.domain}`, 'user', 'Olga Other');
    });
    after(() => s.close());

    test('a busy number: outbound, both numbers, what was typed, carrier, codecs and 486 kept', async () => {
      const rec = s.app.callRecords;
      const callId = newId('call');
      const carrier = (await s.app.billing.decks.createCarrier(`Carrier ${engine}`)).id;
      await rec.opened({
        callId,
        caller: { tenantId: tenant, userId: alice.id, number: '+442079460018' },
        callee: { tenantId: tenant, userId: null, number: '+442079460999' },
        callerDevice: `dev-${alice.id}`,
        video: false,
        at: T0,
      });
      await Promise.all([
        rec.carrierLeg(callId, { carrier, typed: '020 7946 0999' }),
        rec.ringing(callId, T0 + 100, ['trunk/x/1']),
        rec.carrierLeg(callId, { userCodec: 'PCMU', carrierCodec: 'PCMA' }),
        rec.carrierLeg(callId, { sipEndCode: 486, sipEndText: 'Busy Here' }),
        rec.ended(callId, T0 + 3_000, 'busy', null),
      ]);
      const rows = await s.app.storage.db
        .selectFrom('call_records')
        .selectAll()
        .where('call_id', '=', callId)
        .execute();
      assert.equal(rows.length, 1, 'one record: the number is no tenant’s party');
      const r = rows[0]!;
      assert.equal(r.tenant_id, tenant);
      assert.equal(r.direction, 'outbound');
      assert.equal(r.caller_user_id, alice.id);
      assert.equal(r.caller_number, '+442079460018');
      assert.equal(r.callee_user_id, null);
      assert.equal(r.callee_number, '+442079460999');
      assert.equal(r.callee_number_typed, '020 7946 0999');
      assert.equal(r.carrier, carrier);
      assert.equal(r.user_codec, 'PCMU');
      assert.equal(r.carrier_codec, 'PCMA');
      assert.equal(Number(r.sip_end_code), 486);
      assert.equal(r.sip_end_text, 'Busy Here');
      assert.equal(r.end_reason, 'busy');
      assert.equal(r.disposition, 'busy');

      const mine = (await historyOf(s, alice)).calls.find((c) => c.callId === callId)!;
      assert.equal(mine.direction, 'outgoing');
      assert.deepEqual(mine.peer, {
        userId: null,
        displayName: null,
        address: null,
        number: '+442079460999',
      });
      assert.equal((await eventsOf(s, alice, 'call.ended')).length, 1);
      assert.equal((await eventsOf(s, alice, 'call.missed')).length, 0, 'a number misses nothing');
      // The wall: another tenant's user has no trace of it.
      assert.equal((await historyOf(s, olga)).calls.length, 0);
      assert.equal((await eventsOf(s, olga, 'call.ended')).length, 0);
    });
  });
}
