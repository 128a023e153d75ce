/**
 * `parley carrier add --auth register`: the trunk keeps the account (registrar defaulting to the
 * first address) and a registration trunk without its credentials is refused, naming the flag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParleyError } from '@parley/protocol';
import { openTestStorage } from '../billing/storage-helper.ts';
import { CarrierCommands } from '../../src/cli/carrier-commands.ts';

test('carrier add --auth register keeps the account; missing credentials are refused', async () => {
  const t = await openTestStorage('sqlite');
  try {
    const carriers = new CarrierCommands(t.storage);
    await assert.rejects(
      carriers.add({ name: 'Reg', address: '127.0.0.2:5080', auth: 'register', username: 'acct' }),
      (err: unknown) => err instanceof ParleyError && err.field === '--password',
    );
    const c = await carriers.add({
      name: 'Reg',
      address: '127.0.0.2:5080',
      auth: 'register',
      username: 'acct',
      password: 'pw',
      registrar: '127.0.0.2:5090',
    });
    assert.equal(c.auth, 'register');
    assert.deepEqual(c.registration, {
      registrar: { host: '127.0.0.2', port: 5090 },
      username: 'acct',
      authUsername: null,
      password: 'pw',
      domain: null,
      expires: 3600,
    });
    const d = await carriers.add({
      name: 'Reg2',
      address: '127.0.0.3',
      auth: 'register',
      username: 'u',
      password: 'p',
    });
    assert.deepEqual(d.registration?.registrar, { host: '127.0.0.3', port: 5060 });
  } finally {
    await t.dispose();
  }
});
