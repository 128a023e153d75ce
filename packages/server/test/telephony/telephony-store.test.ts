/**
 * The telephony store on both engines: trunks keyed by billing's carriers, the sync source cache
 * refreshed on every change, the number inventory, assignments and dial plans behind the tenant wall.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParleyError } from '@parley/protocol';
import { ENGINES, openTestStorage, seedTenant } from '../billing/storage-helper.ts';
import { TelephonyStore, type TrunkSettings } from '../../src/telephony/telephony-store.ts';
import { trustedScope } from '../../src/directory/scope.ts';
import { IP_TRUNK } from '../../src/telephony/carriers.ts';

function trunk(id: string, tenantId: string | null, allow: string[]): TrunkSettings {
  return {
    id,
    tenantId,
    addresses: [{ host: allow[0] ?? '127.0.0.2', port: 5060 }],
    transport: 'udp',
    allow,
    codecs: ['PCMA', 'PCMU'],
    callerIdFormat: 'e164',
    channelLimit: 10,
    enabled: true,
    ...IP_TRUNK,
  };
}

function code(e: unknown): string | undefined {
  return e instanceof ParleyError ? e.code : undefined;
}

for (const engine of ENGINES) {
  test(`telephony store on ${engine}: trunks, numbers, assignment, dial plan, tenant walls`, async () => {
    const t = await openTestStorage(engine);
    try {
      const db = t.storage.db;
      await seedTenant(t.storage, { id: 'acme', country: 'GB', timeZone: 'Europe/London' }, ['alice', 'bob']);
      await seedTenant(t.storage, { id: 'globex', country: 'US', timeZone: 'America/New_York' }, ['gina']);
      for (const [id, name] of [
        ['op-1', 'Operator Trunk'],
        ['acme-1', 'Acme Own'],
      ])
        await db
          .insertInto('billing_carriers')
          .values({ id: id!, name: name!, created_at: Date.now() })
          .execute();

      const store = new TelephonyStore(db);
      await store.load();
      assert.equal(store.carrierBySource('127.0.0.2'), undefined);
      await assert.rejects(
        store.putTrunk(trunk('nope', null, ['127.0.0.9'])),
        (e) => code(e) === 'not_found',
      );

      const op = await store.putTrunk(trunk('op-1', null, ['127.0.0.2']));
      assert.equal(op.name, 'Operator Trunk');
      await store.putTrunk(trunk('acme-1', 'acme', ['127.0.0.3']));
      // The cache is refreshed by the write: no reload needed, and it is synchronous.
      assert.equal(store.carrierBySource('::ffff:127.0.0.2')?.id, 'op-1');
      assert.equal(store.carrierBySource('127.0.0.3')?.id, 'acme-1');
      assert.deepEqual(
        (await store.carriersFor('acme', '+442079460018')).map((c) => c.id),
        ['acme-1', 'op-1'],
      );
      assert.deepEqual(
        (await store.carriersFor('globex', '+12127360100')).map((c) => c.id),
        ['op-1'],
      );
      // A change of allow-list shows at once; a disabled trunk takes no calls.
      await store.putTrunk({ ...trunk('op-1', null, ['127.0.0.4']), enabled: false });
      assert.equal(store.carrierBySource('127.0.0.2'), undefined);
      assert.equal(store.carrierBySource('127.0.0.4'), undefined);
      assert.deepEqual(
        (await store.carriersFor('globex', '+12127360100')).map((c) => c.id),
        [],
      );
      const reread = new TelephonyStore(db);
      await reread.load();
      assert.deepEqual(await reread.get('acme-1'), await store.get('acme-1'));
      assert.equal((await reread.get('op-1'))?.enabled, false);

      // Numbers: the inventory, a tenant's numbers, a user's caller ID.
      await store.addNumber({ number: '+442079460018', carrierId: 'acme-1', tenantId: 'acme', userId: null });
      await store.addNumber({ number: '+442079460019', carrierId: 'op-1', tenantId: null, userId: null });
      await store.addNumber({
        number: '+12127360100',
        carrierId: 'op-1',
        tenantId: 'globex',
        userId: 'gina',
      });
      await assert.rejects(
        store.addNumber({ number: '+442079460018', carrierId: 'op-1', tenantId: null, userId: null }),
        (e) => code(e) === 'conflict',
      );
      assert.equal((await store.listNumbers()).length, 3);
      const acme = trustedScope('acme');
      const globex = trustedScope('globex');
      assert.deepEqual(
        (await store.tenantNumbers(acme)).map((n) => n.number),
        ['+442079460018'],
      );
      await store.assign(acme, '+442079460018', 'alice');
      assert.equal(await store.numberOfUser('acme', 'alice'), '+442079460018');
      assert.equal(await store.numberOfUser('acme', 'bob'), null);
      assert.deepEqual(await store.byNumber('+442079460018'), {
        number: '+442079460018',
        carrierId: 'acme-1',
        tenantId: 'acme',
        userId: 'alice',
      });

      // The wall: acme cannot see, assign, or assign to, what is globex's; nor the unallocated stock.
      assert.ok(!(await store.tenantNumbers(acme)).some((n) => n.tenantId !== 'acme'));
      await assert.rejects(store.assign(acme, '+12127360100', 'alice'), (e) => code(e) === 'not_found');
      await assert.rejects(store.assign(acme, '+442079460019', 'alice'), (e) => code(e) === 'not_found');
      await assert.rejects(store.assign(acme, '+442079460018', 'gina'), (e) => code(e) === 'not_found');
      await assert.rejects(store.assign(globex, '+442079460018', 'gina'), (e) => code(e) === 'not_found');
      assert.equal(await store.numberOfUser('acme', 'gina'), null);
      assert.equal(await store.numberOfUser('globex', 'alice'), null);
      assert.equal((await store.byNumber('+12127360100'))?.userId, 'gina');

      // Allocation by the operator clears the user.
      const moved = await store.allocate('+442079460018', 'globex');
      assert.deepEqual([moved.tenantId, moved.userId], ['globex', null]);
      assert.equal(await store.numberOfUser('acme', 'alice'), null);
      assert.deepEqual(await store.tenantNumbers(acme), []);

      // Dial plan: the tenant's country until set, per tenant.
      assert.equal(await store.dialPlanCountry(acme), 'GB');
      await store.setDialPlanCountry(acme, 'FR');
      await store.setDialPlanCountry(acme, 'IE');
      assert.equal(await store.dialPlanCountry(acme), 'IE');
      assert.equal(await store.dialPlanCountry(globex), 'US');

      assert.equal(await store.removeNumber('+442079460019'), true);
      assert.equal(await store.removeTrunk('acme-1'), true);
      assert.equal(store.carrierBySource('127.0.0.3'), undefined);
    } finally {
      await t.dispose();
    }
  });
}
