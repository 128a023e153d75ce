/**
 * Least-cost routing on a real server, on both engines (migration 018): the operator sets each trunk's
 * preference over HTTP (a bad one refused), `parley carrier update --preference` changes it, the cost
 * decks imported through billing order the carriers a call out is offered, and the decision written
 * through the trunk leg's record path lands in the record's `route_decision`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { engines, makeOperator, makeTenant, startServer, type TestServer } from '../helpers/server.ts';
import { newId } from '../../src/ids.ts';
import { giveCalling } from '../helpers/calling.ts';
import { trustedScope } from '../../src/directory/scope.ts';
import { CarrierCommands } from '../../src/cli/carrier-commands.ts';
import type { NumberRoute } from '../../src/calls/call-control.ts';

const HEADER = 'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment';

for (const engine of engines) {
  describe(`least-cost routing on ${engine}`, () => {
    let s: TestServer;
    let op: string;
    before(async () => {
      s = await startServer(engine);
      op = await makeOperator(s);
    });
    after(() => s.close());

    test('preference over HTTP and the CLI; cost decks order the carriers; the decision is kept', async () => {
      const ids: Record<string, string> = {};
      for (const [name, preference] of [
        ['Alpha', 5],
        ['Bravo', 1],
        ['Charlie', 0],
        ['Delta', 0],
      ] as const) {
        const c = await s.http.post('/api/operator/billing/carriers', { name }, { token: op });
        ids[name] = (c.json as { id: string }).id;
        const put = await s.http.request(
          'PUT',
          `/api/operator/telephony/carriers/${ids[name]}`,
          { addresses: [{ host: '127.0.0.2', port: 5060 }], healthCheck: false, preference },
          { token: op },
        );
        assert.equal(put.status, 200, put.text);
        assert.equal((put.json as { preference: number }).preference, preference);
      }
      const bad = await s.http.request(
        'PUT',
        `/api/operator/telephony/carriers/${ids.Alpha}`,
        { addresses: [{ host: '127.0.0.2', port: 5060 }], preference: 1.5 },
        { token: op },
      );
      assert.equal(bad.status, 400, bad.text);
      // The CLI changes the preference only: Charlie now comes after Delta among equals.
      const cli = await new CarrierCommands(s.app.storage).update({ name: 'Charlie', preference: '9' });
      assert.equal(cli.preference, 9);
      await s.app.telephony.load(); // a running server reads CLI changes at its next load
      const list = await s.http.get('/api/operator/telephony/carriers', { token: op });
      const prefs = (list.json as { items: Array<{ name: string; preference: number }> }).items.map((t) => [
        t.name,
        t.preference,
      ]);
      assert.deepEqual(prefs, [
        ['Alpha', 5],
        ['Bravo', 1],
        ['Charlie', 9],
        ['Delta', 0],
      ]);

      const decks = s.app.billing.decks;
      const price = async (name: string, rows: string[]) => {
        const d = await decks.createDeck({ name: `${name} costs`, kind: 'cost', carrierId: ids[name] });
        await decks.importVersion(d.id, [HEADER, ...rows].join('\n'), 0);
      };
      await price('Alpha', ['44,UK,domestic,0.0100,0,60,60']);
      await price('Bravo', ['44,UK,domestic,0.0100,0,60,60']);
      await price('Charlie', ['33,France,domestic,0.0010,0,60,60']);
      // Delta has no cost deck: a candidate after the priced ones.
      await decks.refresh();

      const t = await makeTenant(s, 'lcr');
      await s.app.telephony.setDialPlanCountry(trustedScope(t.id), 'GB');
      await giveCalling(s.app, t.id);
      const route = (await s.app.trunkOutbound!.route(
        { tenantId: t.id, userId: t.admin.id },
        '020 7946 0999',
      )) as NumberRoute;
      assert.deepEqual(
        route.carrierIds,
        [ids.Bravo, ids.Alpha, ids.Delta],
        'the same cost: preference 1 before 5; no deck last; no rate: not at all',
      );
      const d = route.decision!;
      assert.deepEqual(
        d.candidates.map((c) => [c.name, c.prefix, c.costPerMinute]),
        [
          ['Bravo', '44', '0.01'],
          ['Alpha', '44', '0.01'],
          ['Delta', null, null],
        ],
      );
      assert.deepEqual(d.skipped, [{ carrierId: ids.Charlie, name: 'Charlie', why: 'no_rate' }]);

      // The trunk leg's record path keeps it as JSON with the call.
      const callId = newId('call');
      await s.app.callRecords.opened({
        callId,
        caller: { tenantId: t.id, userId: t.admin.id, number: null },
        callee: { tenantId: t.id, userId: null, number: '+442079460999' },
        callerDevice: 'dev',
        video: false,
        at: Date.now(),
      });
      await s.app.callRecords.carrierLeg(callId, {
        carrier: ids.Bravo,
        routeDecision: { ...d, chosen: ids.Bravo },
      });
      const r = await s.app.storage.db
        .selectFrom('call_records')
        .selectAll()
        .where('call_id', '=', callId)
        .executeTakeFirstOrThrow();
      assert.equal(r.carrier, ids.Bravo);
      const kept = JSON.parse(r.route_decision!) as typeof d;
      assert.equal(kept.chosen, ids.Bravo);
      assert.deepEqual(kept.candidates, d.candidates);
      await s.app.callRecords.ended(callId, Date.now(), 'hangup', null);
    });
  });
}
