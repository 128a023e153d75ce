/**
 * `parley carrier add --emergency --pidf-lo` and `parley carrier update --emergency yes|no`: the
 * trunk's emergency flags set, changed alone (the rest of the trunk kept), refused when not yes/no,
 * shown by `carrier list`, and audited.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParleyError } from '@parley/protocol';
import { openTestStorage } from '../billing/storage-helper.ts';
import { CarrierCommands } from '../../src/cli/carrier-commands.ts';

test('carrier add --emergency --pidf-lo, then carrier update changes the flags alone', async () => {
  const t = await openTestStorage('sqlite');
  try {
    const carriers = new CarrierCommands(t.storage);
    const plain = await carriers.add({ name: 'Cheap Telecom', address: '127.0.0.3:5060' });
    assert.equal(plain.emergency, false);
    assert.equal(plain.pidfLo, false);
    const sos = await carriers.add({
      name: 'Emergency Telecom',
      address: '127.0.0.2:5060',
      channels: '4',
      emergency: true,
      pidfLo: true,
    });
    assert.deepEqual([sos.emergency, sos.pidfLo], [true, true]);
    const off = await carriers.update({ name: 'emergency telecom', pidfLo: 'no' });
    assert.deepEqual([off.emergency, off.pidfLo, off.channelLimit], [true, false, 4], 'the rest is kept');
    const on = await carriers.update({ name: 'Cheap Telecom', emergency: 'yes' });
    assert.equal(on.emergency, true);
    await assert.rejects(
      carriers.update({ name: 'Cheap Telecom', emergency: 'maybe' }),
      (e: unknown) => e instanceof ParleyError && e.code === 'validation_failed' && e.field === '--emergency',
    );
    const list = await carriers.list();
    assert.deepEqual(
      list.items.map((x) => [x.name, x.emergency, x.pidfLo]),
      [
        ['Cheap Telecom', true, false],
        ['Emergency Telecom', true, false],
      ],
    );
    const audit = await t.storage.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'telephony.carrier.put')
      .execute();
    assert.equal(audit.length, 4, 'two adds and two updates audited');
  } finally {
    await t.dispose();
  }
});
