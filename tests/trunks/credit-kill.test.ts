/**
 * Issue 20 item 3, crash safety of credit control: a real `parley serve` process (SQLite in a
 * temporary folder), Alice's baresip desk phone calling a number through a SIPp carrier that holds
 * the call (uas-answer-until-bye.xml), short slices so the call renews a few while it runs, then
 * `kill -9` of the server mid-call and a restart on the same folder. The call's record is closed at
 * its last-alive time, its reservation is settled (committed against that closed record, nothing
 * left held), and the charge is never above the real duration (answer to kill).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../packages/server/src/app.ts';
import { systemActor } from '../../packages/server/src/audit/audit-log.ts';
import { loadConfig } from '../../packages/server/src/config.ts';
import { AdminCommands } from '../../packages/server/src/cli/commands.ts';
import { trustedScope } from '../../packages/server/src/directory/scope.ts';
import { freePort } from '../../packages/sip/test/sipp-harness.ts';
import { serveProcess } from '../../packages/server/test/helpers/serve-process.ts';
import { toneWav } from '../phones/audio.ts';
import { Baresip } from '../phones/baresip.ts';
import { setUpTrunk, startCarrier, stopAll } from './sipp-carrier.ts';

const folder = mkdtempSync(join(tmpdir(), 'parley-credit-kill-'));
const children: ChildProcess[] = [];
let phone: Baresip | undefined;
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await phone?.stop();
  stopAll();
  rmSync(folder, { recursive: true, force: true });
});

const ALIVE_MS = 300;
/** 0.12 per minute in 1 s increments: 0.002 a second. */
const PER_SECOND = 2_000;

/** The app on the data folder, in this process, while no server runs on it. */
async function offline(env: Record<string, string>): Promise<App> {
  return createApp(loadConfig({ ...env, PARLEY_LOG_LEVEL: 'silent', PARLEY_WEB_BUILD: 'never' }));
}

test('kill -9 mid-call, restart: the record is closed, the reservation settled, the charge never above the real duration', async () => {
  const sipPort = await freePort();
  const env: Record<string, string> = {
    PARLEY_DATA_DIR: join(folder, 'data'),
    PARLEY_CALL_RECORD_ALIVE_MS: String(ALIVE_MS),
    PARLEY_SIP_PORT: String(sipPort),
    PARLEY_SIP_DIGEST_ALGORITHMS: 'MD5',
    PARLEY_BILLING_SLICE_SECONDS: '3',
    PARLEY_BILLING_RENEW_BEFORE: '1',
    PARLEY_BILLING_KEEPALIVE: '1',
    PARLEY_BILLING_RESERVATION_GRACE: '600',
  };
  const carrier = await startCarrier('uas-answer-until-bye.xml', { pauseMs: 300, timeoutMs: 120_000 });

  // Contoso (the demo), the carrier's trunk, calling for its users, a price, and Alice's desk phone.
  let app = await offline(env);
  await new AdminCommands(app.storage).demo();
  await setUpTrunk(app, carrier.port);
  const tenant = (await app.directory.findTenantByDomain('contoso.example'))!;
  const scope = trustedScope(tenant.id);
  const deck = await app.billing.decks.createDeck({ name: '0.12 a minute', kind: 'sell' });
  await app.billing.decks.importVersion(
    deck.id,
    'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment\n44,United Kingdom,domestic,0.12,0,1,1',
    0,
  );
  await app.billing.wallet.setOptions(scope, { sellDeckId: deck.id });
  const before = await app.billing.wallet.view(scope);
  const alice = (await app.directory.findUserRecordByAddress('alice@contoso.example'))!;
  const device = await app.devices.admin.create(scope, systemActor('test'), alice.id, {
    name: 'Alice desk phone',
    username: 'alice-kill',
  });
  await app.close();

  const first = serveProcess(env);
  children.push(first.child);
  await first.url;
  phone = await Baresip.start({
    name: 'alice-kill',
    wav: await toneWav(folder, 600),
    account: {
      user: device.settings.username,
      domain: 'contoso.example',
      password: device.settings.password,
      proxy: { address: '127.0.0.1', port: sipPort, transport: 'udp' },
      registerSeconds: 600,
    },
  });
  await phone.waitFor('REGISTER_OK');
  await phone.dial('sip:02079460999@contoso.example');
  await phone.waitFor('CALL_ESTABLISHED', () => true, 15_000);
  const answered = Date.now();
  // Several slices go by (3 s each, renewed 1 s before their end) before the server dies.
  await new Promise((r) => setTimeout(r, 7_000));
  first.child.kill('SIGKILL');
  const killedAt = Date.now();
  await new Promise((r) => first.child.once('exit', r));
  const trueSeconds = (killedAt - answered) / 1000;

  const second = serveProcess(env);
  children.push(second.child);
  await second.url;
  second.child.kill('SIGTERM');
  await new Promise((r) => second.child.once('exit', r));

  app = await offline(env);
  try {
    const record = await app.storage.db
      .selectFrom('call_records')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .orderBy('placed_at', 'desc')
      .executeTakeFirstOrThrow();
    assert.ok(record.ended_at !== null, 'the record is closed');
    assert.equal(record.end_reason, 'failed');
    const recorded = (Number(record.ended_at) - Number(record.answered_at)) / 1000;
    assert.ok(recorded <= trueSeconds, `never longer than the call was (${recorded} <= ${trueSeconds})`);
    assert.ok(recorded >= 5, `the keepalives of the record kept most of the call (${recorded} s)`);

    const reservations = await app.storage.db
      .selectFrom('billing_reservations')
      .selectAll()
      .where('call_id', '=', record.call_id)
      .execute();
    assert.equal(reservations.length, 1, 'the call had its reservation');
    assert.equal(reservations[0]!.state, 'committed', 'settled against the closed record');
    assert.ok(reservations[0]!.granted_seconds > 3, 'slices were renewed while the call ran');
    const rated = await app.storage.db
      .selectFrom('billing_rated_calls')
      .selectAll()
      .where('call_id', '=', record.call_id)
      .executeTakeFirstOrThrow();
    assert.equal(
      rated.billable_seconds,
      Math.floor(recorded),
      'the closed duration (whole seconds) is charged',
    );
    assert.ok(
      rated.amount_micros <= Math.floor(trueSeconds) * PER_SECOND,
      `the charge (${rated.amount_micros}) is never above the real duration (${trueSeconds} s)`,
    );
    const after = await app.billing.wallet.view(scope);
    assert.equal(after.held, 0, 'nothing stays held');
    assert.equal(before.balance - after.balance, rated.amount_micros, 'the wallet paid exactly the charge');
  } finally {
    await app.close();
  }
});
