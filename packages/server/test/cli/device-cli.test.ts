/**
 * `parley device ...` and `parley extension ...`: what they print (text and --json), their coded
 * refusals, and that the password printed once registers a phone with the server then started on the
 * same data folder.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SipDeviceCredentials } from '@parley/protocol';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { UdpSipClient } from '../helpers/sip-client.ts';
import { registerDevice } from '../devices/register.ts';

const bin = new URL('../../bin/parley.js', import.meta.url).pathname;
const DOMAIN = 'fabrikam.example';

describe('parley device and extension commands', () => {
  let dataDir: string;
  const parley = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], {
      env: {
        ...process.env,
        PARLEY_DATA_DIR: dataDir,
        PARLEY_LOG_LEVEL: 'silent',
        PARLEY_SIP_ADDRESS: '127.0.0.1',
        PARLEY_SIP_PORT: '5099',
        PARLEY_SIP_TLS_PORT: '5098',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return {
      status: r.status,
      stdout: r.stdout,
      stderr: r.stderr,
      json: () => JSON.parse(r.stdout) as unknown,
    };
  };

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-device-cli-'));
    assert.equal(parley('tenant', 'create', '--name', 'Fabrikam', '--domain', DOMAIN).status, 0);
    const u = parley(
      'user',
      'add',
      '--tenant',
      DOMAIN,
      '--address',
      `bob@${DOMAIN}`,
      '--name',
      'Bob Baker',
      '--password',
      'copper-kettle-morning',
    );
    assert.equal(u.status, 0, u.stderr);
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  let printed: SipDeviceCredentials;

  test('device add --json prints the user name, password, domain, proxy and port; text mode says the same', () => {
    const r = parley('device', 'add', '--user', `bob@${DOMAIN}`, '--name', 'Desk phone', '--json');
    assert.equal(r.status, 0, r.stderr);
    printed = r.json() as SipDeviceCredentials;
    assert.equal(printed.settings.username, 'bob');
    assert.equal(printed.settings.domain, DOMAIN);
    assert.equal(printed.settings.proxyAddress, '127.0.0.1');
    assert.equal(printed.settings.port, 5099);
    assert.equal(printed.settings.tlsPort, 5098);
    assert.ok(printed.settings.password.length >= 16);
    assert.deepEqual(
      printed.provisioning.map((p) => p.kind),
      ['baresip', 'yealink'],
    );

    const text = parley('device', 'add', '--user', `bob@${DOMAIN}`, '--username', 'bob-soft');
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /SIP user name: bob-soft/);
    assert.match(text.stdout, /password: +\S+ +\(shown this once\)/);
    assert.match(text.stdout, new RegExp(`domain: +${DOMAIN.replace('.', '\\.')}`));
    assert.match(text.stdout, /proxy: +127\.0\.0\.1 port 5099 \(UDP, TCP\), 5098 \(TLS\)/);
    assert.match(text.stdout, /account\.1\.auth_name = bob-soft/);

    const list = parley('device', 'list', '--user', `bob@${DOMAIN}`);
    assert.match(list.stdout, new RegExp(`bob@${DOMAIN.replace('.', '\\.')} +Desk phone`));
    assert.doesNotMatch(list.stdout, new RegExp(printed.settings.password));
  });

  test('refusals exit 1 with their code; bad arguments exit 2', () => {
    const weak = parley('device', 'add', '--user', `bob@${DOMAIN}`, '--password', 'bobbaker1', '--json');
    assert.equal(weak.status, 1);
    assert.equal((weak.json() as { error: { code: string } }).error.code, 'weak_password');
    const nobody = parley('device', 'add', '--user', `nobody@${DOMAIN}`, '--json');
    assert.equal(nobody.status, 1);
    assert.deepEqual(nobody.json(), {
      error: { code: 'not_found', message: `no user has the address nobody@${DOMAIN}`, field: '--user' },
    });
    const dup = parley('device', 'add', '--user', `bob@${DOMAIN}`, '--username', 'bob', '--json');
    assert.equal((dup.json() as { error: { code: string } }).error.code, 'duplicate_sip_username');
    const emergency = parley('extension', 'set', '--user', `bob@${DOMAIN}`, '--extension', '112', '--json');
    assert.equal(emergency.status, 1);
    assert.equal((emergency.json() as { error: { field: string } }).error.field, '--extension');
    assert.equal(parley('device', 'add').status, 2);
  });

  test('extension set and clear', () => {
    const set = parley('extension', 'set', '--user', `bob@${DOMAIN}`, '--extension', '2002', '--json');
    assert.equal(set.status, 0, set.stderr);
    assert.equal((set.json() as { extension: string }).extension, '2002');
    assert.match(parley('extension', 'clear', '--user', `bob@${DOMAIN}`).stdout, /has no extension/);
    assert.equal(parley('extension', 'set', '--user', `bob@${DOMAIN}`, '--extension', '2001').status, 0);
  });

  test('the printed password registers with the server; reset by user name replaces it; remove', async () => {
    const reset = parley('device', 'reset', '--user', `bob@${DOMAIN}`, '--device', 'bob-soft', '--json');
    assert.equal(reset.status, 0, reset.stderr);
    const fresh = (reset.json() as SipDeviceCredentials).settings.password;
    const removed = parley('device', 'remove', '--user', `bob@${DOMAIN}`, '--device', 'bob-soft', '--json');
    assert.equal(removed.status, 0, removed.stderr);

    const config = loadConfig(
      {},
      {
        dataDir,
        port: 0,
        sipPort: 0,
        sipTlsPort: -1,
        host: '127.0.0.1',
        logLevel: 'silent',
        webBuild: 'never',
      },
    );
    const app = await createApp(config);
    await app.listen();
    const sip = await UdpSipClient.open('127.0.0.1', app.sip!.udpPort);
    try {
      assert.equal(await registerDevice(sip, 'bob', printed.settings.password, DOMAIN, 'MD5'), 200);
      assert.equal(await registerDevice(sip, 'bob-soft', fresh, DOMAIN), 403);
      const owner = await app.devices.lookup.userByExtension(
        (await app.directory.findTenantByDomain(DOMAIN))!.id,
        '2001',
      );
      assert.equal(owner?.address, `bob@${DOMAIN}`);
    } finally {
      await sip.close();
      await app.close();
    }
  });
});
