/**
 * The operations behind `parley carrier` and `parley number` on both engines (the CLI's own test runs
 * the binary on SQLite): billing's carrier created once and reused, the trunk's defaults, the number
 * given to the user's tenant, a user of another tenant refused with nothing written, the tenant's list
 * holding its own numbers only, and every change audited as the CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParleyError } from '@parley/protocol';
import { ENGINES, openTestStorage } from '../billing/storage-helper.ts';
import { AdminCommands } from '../../src/cli/commands.ts';
import { CarrierCommands } from '../../src/cli/carrier-commands.ts';
import { NumberCommands } from '../../src/cli/number-commands.ts';

const refusal = (code: string, field: string) => (err: unknown) =>
  err instanceof ParleyError && err.code === code && err.field === field;

for (const engine of ENGINES) {
  test(`carrier and number commands on ${engine}: defaults, reuse, the tenant wall, audit`, async () => {
    const t = await openTestStorage(engine);
    try {
      const admin = new AdminCommands(t.storage);
      for (const [name, domain] of [
        ['Fabrikam', 'fabrikam.example'],
        ['Tailspin', 'tailspin.example'],
      ] as const) {
        await admin.createTenant({ name, domain, country: 'GB' });
      }
      const password = 'copper-kettle-morning';
      await admin.addUser({
        tenant: 'fabrikam.example',
        address: 'bob@fabrikam.example',
        name: 'Bob',
        password,
      });
      await admin.addUser({
        tenant: 'tailspin.example',
        address: 'tess@tailspin.example',
        name: 'Tess',
        password,
      });
      const carriers = new CarrierCommands(t.storage);
      const numbers = new NumberCommands(t.storage);

      const c = await carriers.add({ name: 'Carrier One', address: '127.0.0.2:5070' });
      assert.equal(c.created, true);
      assert.deepEqual(
        [c.transport, c.allow, c.codecs, c.callerIdFormat, c.channelLimit, c.tenant],
        ['udp', ['127.0.0.2'], ['PCMA', 'PCMU'], 'e164', null, null],
      );
      await assert.rejects(
        carriers.add({ name: 'carrier one', address: '127.0.0.2' }),
        refusal('conflict', '--name'),
      );
      await carriers.remove({ name: 'CARRIER ONE' });
      const again = await carriers.add({
        name: 'Carrier One',
        address: '127.0.0.3',
        tenant: 'fabrikam.example',
      });
      assert.equal(again.id, c.id, "billing's carrier is reused, not duplicated");
      assert.equal(again.created, false);
      assert.equal(again.tenant, 'fabrikam.example');
      const billing = await t.storage.db.selectFrom('billing_carriers').select('id').execute();
      assert.equal(billing.length, 1);

      const n = await numbers.add({
        carrier: 'Carrier One',
        number: '+44 20 7946 0018',
        user: 'bob@fabrikam.example',
      });
      assert.deepEqual(
        [n.number, n.tenant, n.user],
        ['+442079460018', 'fabrikam.example', 'bob@fabrikam.example'],
      );
      await assert.rejects(
        numbers.add({
          carrier: c.id,
          number: '+442079460019',
          tenant: 'tailspin.example',
          user: 'bob@fabrikam.example',
        }),
        refusal('not_found', '--user'),
      );
      assert.equal(
        await t.storage.db
          .selectFrom('telephony_numbers')
          .where('number', '=', '+442079460019')
          .select('number')
          .executeTakeFirst(),
        undefined,
      );
      assert.deepEqual((await numbers.list({ tenant: 'tailspin.example' })).items, []);
      assert.deepEqual(
        (await numbers.list({ tenant: 'fabrikam.example' })).items.map((x) => x.number),
        ['+442079460018'],
      );
      await numbers.remove({ number: '+442079460018' });
      await assert.rejects(numbers.remove({ number: '+442079460018' }), refusal('not_found', '--number'));

      const audit = await t.storage.db
        .selectFrom('audit_log')
        .select(['action', 'actor_address', 'tenant_id'])
        .where('action', 'like', '%carrier%')
        .orderBy('seq')
        .execute();
      assert.deepEqual(
        audit.map((a) => [a.action, a.actor_address]),
        [
          ['billing.carrier.create', 'cli'],
          ['telephony.carrier.put', 'cli'],
          ['telephony.carrier.remove', 'cli'],
          ['telephony.carrier.put', 'cli'],
        ],
      );
      const numberAudit = await t.storage.db
        .selectFrom('audit_log')
        .select(['action', 'tenant_id'])
        .where('action', 'like', 'telephony.number.%')
        .orderBy('seq')
        .execute();
      assert.deepEqual(
        numberAudit.map((a) => a.action),
        ['telephony.number.add', 'telephony.number.remove'],
      );
      assert.ok(
        numberAudit.every((a) => a.tenant_id === n.tenantId),
        "the number's tenant sees its audit",
      );
    } finally {
      await t.dispose();
    }
  });
}
