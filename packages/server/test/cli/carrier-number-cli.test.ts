/**
 * `parley carrier ...` and `parley number ...`: what they print (text and --json), their coded refusals
 * (each naming its flag), the wall between tenants, and that a server then started on the same data
 * folder knows the carrier by its source address and the user's number as their caller ID.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';

const bin = new URL('../../bin/parley.js', import.meta.url).pathname;
const DOMAIN = 'fabrikam.example';
const OTHER = 'tailspin.example';

interface Refusal {
  error: { code: string; message: string; field?: string };
}

describe('parley carrier and number commands', () => {
  let dataDir: string;
  const parley = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], {
      env: { ...process.env, PARLEY_DATA_DIR: dataDir, PARLEY_LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return {
      status: r.status,
      stdout: r.stdout,
      stderr: r.stderr,
      json: <T = Record<string, unknown>>() => JSON.parse(r.stdout) as T,
    };
  };

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-carrier-cli-'));
    for (const [name, domain] of [
      ['Fabrikam', DOMAIN],
      ['Tailspin', OTHER],
    ] as const) {
      assert.equal(parley('tenant', 'create', '--name', name, '--domain', domain).status, 0);
    }
    for (const address of [`bob@${DOMAIN}`, `tess@${OTHER}`]) {
      const u = parley(
        'user',
        'add',
        '--tenant',
        address.split('@')[1]!,
        '--address',
        address,
        '--name',
        'Some Person',
        '--password',
        'copper-kettle-morning',
      );
      assert.equal(u.status, 0, u.stderr);
    }
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  let carrierOne = '';

  test('carrier add creates billing carrier and trunk; defaults: UDP, allow = address hosts, PCMA first', () => {
    const r = parley('carrier', 'add', '--name', 'Carrier One', '--address', '127.0.0.2:5070', '--json');
    assert.equal(r.status, 0, r.stderr);
    const c = r.json<{ id: string; created: boolean } & Record<string, unknown>>();
    carrierOne = c.id;
    assert.match(c.id, /^car_/);
    assert.equal(c.created, true);
    assert.deepEqual(c.addresses, [{ host: '127.0.0.2', port: 5070 }]);
    assert.equal(c.transport, 'udp');
    assert.deepEqual(c.allow, ['127.0.0.2']);
    assert.deepEqual(c.codecs, ['PCMA', 'PCMU']);
    assert.equal(c.tenantId, null);
    assert.equal(c.enabled, true);

    // A carrier billing already has (with its cost decks) gains the trunk: no second billing carrier.
    assert.equal(parley('carrier', 'remove', '--name', 'carrier one').status, 0);
    const again = parley(
      'carrier',
      'add',
      '--name',
      'Carrier One',
      '--address',
      '127.0.0.2:5070,127.0.0.5',
      '--allow',
      '127.0.0.2, 127.0.0.6',
      '--transport',
      'tcp',
      '--codecs',
      'pcmu,pcma',
      '--caller-id',
      'e164_no_plus',
      '--channels',
      '30',
      '--json',
    );
    assert.equal(again.status, 0, again.stderr);
    const c2 = again.json<Record<string, unknown>>();
    assert.equal(c2.id, carrierOne);
    assert.equal(c2.created, false);
    assert.deepEqual(c2.addresses, [
      { host: '127.0.0.2', port: 5070 },
      { host: '127.0.0.5', port: 5060 },
    ]);
    assert.deepEqual(c2.allow, ['127.0.0.2', '127.0.0.6']);
    assert.equal(c2.transport, 'tcp');
    assert.deepEqual(c2.codecs, ['PCMU', 'PCMA']);
    assert.equal(c2.callerIdFormat, 'e164_no_plus');
    assert.equal(c2.channelLimit, 30);

    const own = parley(
      'carrier',
      'add',
      '--name',
      'Fabrikam SBC',
      '--address',
      '127.0.0.3',
      '--tenant',
      DOMAIN,
    );
    assert.equal(own.status, 0, own.stderr);
    assert.match(own.stdout, /carrier Fabrikam SBC created with a SIP trunk: car_/);

    const list = parley('carrier', 'list');
    assert.equal(list.status, 0, list.stderr);
    assert.match(
      list.stdout,
      /Carrier One +tcp 127\.0\.0\.2:5070, 127\.0\.0\.5:5060 +allow 127\.0\.0\.2, 127\.0\.0\.6/,
    );
    assert.match(list.stdout, /30 channels +operator's/);
    assert.match(
      list.stdout,
      new RegExp(`Fabrikam SBC +udp 127\\.0\\.0\\.3:5060 .*${DOMAIN.replace('.', '\\.')}'s own`),
    );
    const json = parley('carrier', 'list', '--json').json<{
      items: Array<{ name: string; tenant: string | null }>;
    }>();
    assert.deepEqual(
      json.items.map((t) => [t.name, t.tenant]),
      [
        ['Carrier One', null],
        ['Fabrikam SBC', DOMAIN],
      ],
    );
  });

  test('carrier refusals: exit 1 with the code and the flag; bad arguments exit 2', () => {
    const dup = parley('carrier', 'add', '--name', 'Carrier One', '--address', '127.0.0.2', '--json');
    assert.equal(dup.status, 1);
    assert.equal(dup.json<Refusal>().error.code, 'conflict');
    const cases: Array<[string[], string, string]> = [
      [['--address', '127.0.0.7:99999'], 'validation_failed', '--address'],
      [['--address', '127.0.0.7', '--transport', 'sctp'], 'validation_failed', '--transport'],
      [['--address', '127.0.0.7', '--codecs', 'GSM'], 'validation_failed', '--codecs'],
      [['--address', '127.0.0.7', '--channels', '0'], 'validation_failed', '--channels'],
      [['--address', '127.0.0.7', '--tenant', 'nobody.example'], 'not_found', '--tenant'],
    ];
    for (const [args, code, field] of cases) {
      const r = parley('carrier', 'add', '--name', 'Carrier Two', ...args, '--json');
      assert.equal(r.status, 1, args.join(' '));
      assert.equal(r.json<Refusal>().error.code, code, args.join(' '));
      assert.equal(r.json<Refusal>().error.field, field, args.join(' '));
    }
    // Refused before anything was written: no billing carrier "Carrier Two" was left behind.
    const gone = parley('carrier', 'remove', '--name', 'Carrier Two', '--json');
    assert.equal(gone.json<Refusal>().error.code, 'not_found');
    assert.equal(parley('carrier', 'add', '--name', 'X').status, 2);
    assert.equal(parley('carrier', 'remove').status, 2);
  });

  test('number add: international typing kept in E.164, --user gives it to their tenant; list; remove', () => {
    const r = parley(
      'number',
      'add',
      '--carrier',
      'Carrier One',
      '--number',
      '+44 20 7946 0018',
      '--user',
      `bob@${DOMAIN}`,
      '--json',
    );
    assert.equal(r.status, 0, r.stderr);
    const n = r.json<Record<string, unknown>>();
    assert.equal(n.number, '+442079460018');
    assert.equal(n.carrierId, carrierOne);
    assert.equal(n.carrier, 'Carrier One');
    assert.equal(n.tenant, DOMAIN);
    assert.equal(n.user, `bob@${DOMAIN}`);

    const spare = parley(
      'number',
      'add',
      '--carrier',
      'Fabrikam SBC',
      '--number',
      '+442079460019',
      '--tenant',
      DOMAIN,
    );
    assert.equal(spare.status, 0, spare.stderr);
    assert.match(spare.stdout, /number \+442079460019 +carrier Fabrikam SBC +tenant fabrikam\.example added/);
    const stock = parley('number', 'add', '--carrier', carrierOne, '--number', '+12025550143');
    assert.equal(stock.status, 0, stock.stderr);
    assert.match(stock.stdout, /\+12025550143 +carrier Carrier One +not given to a tenant/);

    const all = parley('number', 'list', '--json').json<{ items: Array<{ number: string }> }>();
    assert.deepEqual(
      all.items.map((x) => x.number),
      ['+12025550143', '+442079460018', '+442079460019'],
    );
    const mine = parley('number', 'list', '--tenant', DOMAIN);
    assert.match(
      mine.stdout,
      /\+442079460018 +carrier Carrier One +tenant fabrikam\.example +user bob@fabrikam\.example/,
    );
    assert.doesNotMatch(mine.stdout, /\+12025550143/);
    const theirs = parley('number', 'list', '--tenant', OTHER);
    assert.equal(theirs.stdout.trim(), 'no numbers');
    const byCarrier = parley('number', 'list', '--carrier', 'fabrikam sbc', '--json').json<{
      items: Array<{ number: string }>;
    }>();
    assert.deepEqual(
      byCarrier.items.map((x) => x.number),
      ['+442079460019'],
    );

    const removed = parley('number', 'remove', '--number', '+1 202-555-0143', '--json');
    assert.equal(removed.status, 0, removed.stderr);
    assert.deepEqual(removed.json(), { removed: '+12025550143' });
  });

  test('number refusals: national, invalid, held, unknown carrier, and a user of another tenant', () => {
    const cases: Array<[string[], string, string]> = [
      [['--carrier', 'Carrier One', '--number', '020 7946 0020'], 'validation_failed', '--number'],
      [['--carrier', 'Carrier One', '--number', '+44 1'], 'validation_failed', '--number'],
      [['--carrier', 'Carrier One', '--number', '2001'], 'validation_failed', '--number'],
      [['--carrier', 'Carrier One', '--number', '+442079460018'], 'conflict', '--number'],
      [['--carrier', 'Nobody Telecom', '--number', '+442079460020'], 'not_found', '--carrier'],
      [
        [
          '--carrier',
          'Carrier One',
          '--number',
          '+442079460020',
          '--tenant',
          OTHER,
          '--user',
          `bob@${DOMAIN}`,
        ],
        'not_found',
        '--user',
      ],
      [
        ['--carrier', 'Carrier One', '--number', '+442079460020', '--user', `nobody@${DOMAIN}`],
        'not_found',
        '--user',
      ],
    ];
    for (const [args, code, field] of cases) {
      const r = parley('number', 'add', ...args, '--json');
      assert.equal(r.status, 1, args.join(' '));
      assert.equal(r.json<Refusal>().error.code, code, args.join(' '));
      assert.equal(r.json<Refusal>().error.field, field, args.join(' '));
    }
    // The wall: nothing of the refused cross-tenant add reached Tailspin.
    assert.equal(parley('number', 'list', '--tenant', OTHER).stdout.trim(), 'no numbers');
    const missing = parley('number', 'remove', '--number', '+442079460020');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /not_found: \+442079460020 is not in the inventory/);
    assert.equal(parley('number', 'add', '--carrier', 'Carrier One').status, 2);
  });

  test('a server started on the folder knows the carrier by source address and the user by number', async () => {
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
    try {
      assert.equal(app.telephony.carrierBySource('127.0.0.6')?.name, 'Carrier One');
      assert.equal(app.telephony.carrierBySource('::ffff:127.0.0.3')?.name, 'Fabrikam SBC');
      assert.equal(app.telephony.carrierBySource('127.0.0.9'), undefined);
      const fabrikam = (await app.directory.findTenantByDomain(DOMAIN))!;
      const tailspin = (await app.directory.findTenantByDomain(OTHER))!;
      const bob = (await app.directory.findUserRecordByAddress(`bob@${DOMAIN}`))!;
      assert.equal(await app.telephony.numberOfUser(fabrikam.id, bob.id), '+442079460018');
      // Fabrikam's own carrier first, then the operator's; Tailspin never sees Fabrikam's.
      assert.deepEqual(
        (await app.telephony.carriersFor(fabrikam.id, '+33142685300')).map((c) => c.name),
        ['Fabrikam SBC', 'Carrier One'],
      );
      assert.deepEqual(
        (await app.telephony.carriersFor(tailspin.id, '+33142685300')).map((c) => c.name),
        ['Carrier One'],
      );
    } finally {
      await app.close();
    }
  });
});
