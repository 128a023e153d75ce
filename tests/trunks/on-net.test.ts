/**
 * Issue 20, on-net first: a number dialled on the dial pad that a user of this server owns connects
 * user to user, with no carrier and free, whatever tenant owns it.
 *
 * Contoso has a carrier that could take the call (a trunk at a UDP socket of this test on 127.0.0.2
 * that records every packet) and Alice's number; a second tenant made here, Fabrikam, gives Frank a
 * number. Alice dials Frank's number as a GB user types it: Frank's browser rings showing Alice's
 * number only, he answers, both hear each other (WebRTC between the browsers), Alice hangs up. No
 * INVITE reached the carrier, no channel was taken, nothing was reserved or rated. Neither side's
 * pages received the other's ids, names, addresses or tenant (every realtime frame read), each
 * tenant keeps its own record (Contoso's outbound to the number, Fabrikam's inbound from it, both
 * on-net) and each history lists the other party by number only, marked on-net. A colleague's number
 * (Bob's) rings Bob as an ordinary internal call, marked on-net. Alice's desk phone (baresip) dialling
 * Frank's number rings his browser too, and they hear each other.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import type { Page } from 'playwright-core';
import type { CallHistoryPage } from '@parley/protocol';
import { apiSession, demo, DEMO_PASSWORD, screenshot } from '../web/harness.ts';
import { browserSuite, hearsSound } from '../phones/browser-suite.ts';
import { until } from '../phones/until.ts';
import { trustedScope } from '../../packages/server/src/directory/scope.ts';
import { hashPassword } from '../../packages/server/src/credentials/passwords.ts';
import type { TrunkCarrier } from '../../packages/server/src/telephony/carriers.ts';
import { ALICE_NUMBER, CARRIER_IP, setUpTrunk } from './sipp-carrier.ts';
import { dialFrom, hangUp } from './outbound-steps.ts';
import { answer, incomingCall } from './inbound-steps.ts';
import { hear, SILENCE_DBFS } from '../phones/audio.ts';

const FRANK = 'frank@fabrikam.example';
const FRANK_NUMBER = '+442079460777';
const FRANK_TYPED = '020 7946 0777';
const BOB_NUMBER = '+442079460020';

const suite = browserSuite();
/** The carrier that must not be used: every datagram it got. */
let carrier: Socket;
const received: string[] = [];
before(async () => {
  carrier = createSocket('udp4');
  carrier.on('message', (m) => received.push(m.toString()));
  await new Promise<void>((resolve) => carrier.bind(0, CARRIER_IP, resolve));
});
after(() => carrier.close());

interface World {
  trunk: TrunkCarrier;
  contoso: string;
  fabrikam: string;
  alice: string;
  bob: string;
  frank: string;
}
let world: Promise<World> | undefined;

/** Contoso's trunk and numbers, and Fabrikam with Frank and his number (once, for the file). */
function setUp(): Promise<World> {
  world ??= (async () => {
    const app = suite.server.web.app;
    const trunk = await setUpTrunk(app, carrier.address().port);
    const contoso = (await app.directory.findTenantByDomain('contoso.example'))!.id;
    const alice = (await app.directory.findUserRecordByAddress(demo.alice))!.id;
    const bob = (await app.directory.findUserRecordByAddress(demo.bob))!.id;
    await app.telephony.addNumber({
      number: BOB_NUMBER,
      carrierId: trunk.id,
      tenantId: contoso,
      userId: bob,
    });
    const t = await app.directory.createTenant({
      name: 'Fabrikam',
      domains: ['fabrikam.example'],
      country: 'GB',
      timeZone: 'Europe/London',
    });
    const frank = await app.directory.createUser(trustedScope(t.id), {
      address: FRANK,
      displayName: 'Frank Fisher',
      passwordHash: await hashPassword(DEMO_PASSWORD),
      role: 'admin',
    });
    // A number of the operator's inventory, given to Fabrikam and by Fabrikam to Frank.
    await app.telephony.addNumber({
      number: FRANK_NUMBER,
      carrierId: trunk.id,
      tenantId: t.id,
      userId: frank.id,
    });
    return { trunk, contoso, fabrikam: t.id, alice, bob, frank: frank.id };
  })();
  return world;
}

const pages = new Map<string, Promise<Page>>();
/** One signed-in page per user for the whole file (a second one would ring too). */
function pageOf(address: string): Promise<Page> {
  let p = pages.get(address);
  if (!p) pages.set(address, (p = suite.page(address)));
  return p;
}

/** Every realtime frame the page receives from now on (the page reloads so its socket is watched). */
async function watchFrames(page: Page): Promise<string[]> {
  const frames: string[] = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
  await page.reload();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return frames;
}

function assertNothingOf(frames: string[], what: string, secrets: string[]): void {
  assert.ok(frames.length > 0, `${what}: frames were read`);
  for (const f of frames)
    for (const s of secrets)
      assert.ok(!f.toLowerCase().includes(s.toLowerCase()), `${what} received “${s}”: ${f.slice(0, 400)}`);
}

async function recordsOf(callId: string) {
  return suite.server.web.app.storage.db
    .selectFrom('call_records')
    .selectAll()
    .where('call_id', '=', callId)
    .orderBy('direction')
    .execute();
}

test('Alice dials a number Frank of another tenant owns: on-net, free, numbers only on both sides', async () => {
  const w = await setUp();
  const app = suite.server.web.app;
  const a = await pageOf(demo.alice);
  const f = await pageOf(FRANK);
  const [aliceFrames, frankFrames] = [await watchFrames(a), await watchFrames(f)];

  assert.equal(await dialFrom(a, FRANK_TYPED), null, 'the call is placed');
  const aliceView = a.getByRole('region', { name: `Call with ${FRANK_NUMBER}` });
  await aliceView.waitFor();
  // Frank's browser rings with Alice's number, nothing else of her.
  const incoming = await incomingCall(f, ALICE_NUMBER);
  const shown = await incoming.innerText();
  for (const s of ['Alice', 'Archer', 'contoso']) assert.ok(!shown.includes(s), `Frank sees “${s}”`);
  await screenshot(f, 'on-net', 'frank-rings');
  assert.equal(app.calls.size, 1, 'one call in call control');
  const callId = (
    await app.storage.db
      .selectFrom('call_records')
      .select('call_id')
      .where('tenant_id', '=', w.fabrikam)
      .orderBy('placed_at', 'desc')
      .executeTakeFirstOrThrow()
  ).call_id;
  const frankView = await answer(f, ALICE_NUMBER, incoming);
  await aliceView.getByRole('timer').waitFor();
  await hearsSound(a, 'Alice hears Frank');
  await hearsSound(f, 'Frank hears Alice');
  assert.equal(app.trunkOutbound?.inUse(w.trunk.id), 0, 'no carrier channel is taken');
  await hangUp(aliceView);
  await frankView.waitFor({ state: 'detached' });
  await f.getByText(`Call with ${ALICE_NUMBER} ended.`).first().waitFor();

  assert.deepEqual(
    received.filter((m) => m.startsWith('INVITE')),
    [],
    'no INVITE went to the carrier',
  );
  const rows = await until(
    'both records end',
    () => recordsOf(callId),
    (r) => r.length === 2 && r.every((x) => x.ended_at !== null),
  );
  const [inbound, outbound] = rows;
  assert.deepEqual(
    {
      tenant: outbound!.tenant_id,
      direction: outbound!.direction,
      onNet: outbound!.on_net,
      caller: outbound!.caller_user_id,
      callerNumber: outbound!.caller_number,
      callee: outbound!.callee_user_id,
      calleeNumber: outbound!.callee_number,
      typed: outbound!.callee_number_typed,
      carrier: outbound!.carrier,
      rung: outbound!.rung_devices,
      answeredBy: outbound!.answer_device,
      endedBy: outbound!.ended_by,
      disposition: outbound!.disposition,
    },
    {
      tenant: w.contoso,
      direction: 'outbound',
      onNet: 1,
      caller: w.alice,
      callerNumber: ALICE_NUMBER,
      callee: null,
      calleeNumber: FRANK_NUMBER,
      typed: FRANK_TYPED,
      carrier: null,
      rung: null,
      answeredBy: null,
      endedBy: w.alice,
      disposition: 'answered',
    },
    'Contoso’s record: outbound to the number, on-net, no carrier, none of Frank’s devices',
  );
  assert.deepEqual(
    {
      tenant: inbound!.tenant_id,
      direction: inbound!.direction,
      onNet: inbound!.on_net,
      caller: inbound!.caller_user_id,
      callerNumber: inbound!.caller_number,
      callerDevice: inbound!.caller_device,
      callee: inbound!.callee_user_id,
      calleeNumber: inbound!.callee_number,
      typed: inbound!.callee_number_typed,
      carrier: inbound!.carrier,
      endedBy: inbound!.ended_by,
      disposition: inbound!.disposition,
    },
    {
      tenant: w.fabrikam,
      direction: 'inbound',
      onNet: 1,
      caller: null,
      callerNumber: ALICE_NUMBER,
      callerDevice: null,
      callee: w.frank,
      calleeNumber: FRANK_NUMBER,
      typed: null,
      carrier: null,
      endedBy: null,
      disposition: 'answered',
    },
    'Fabrikam’s record: inbound from the number, on-net, none of Alice’s ids',
  );
  // Free: nothing reserved, nothing rated, for this call.
  const db = app.storage.db;
  const held = await db
    .selectFrom('billing_reservations')
    .selectAll()
    .where('call_id', '=', callId)
    .execute();
  const rated = await db
    .selectFrom('billing_rated_calls')
    .selectAll()
    .where('call_id', '=', callId)
    .execute();
  assert.deepEqual([held.length, rated.length], [0, 0], 'nothing reserved or rated');

  // Each history: the other party by number only, marked on-net.
  const web = suite.server.web;
  const mine = async (address: string) =>
    (await (await apiSession(web, address)).call<CallHistoryPage>('GET', '/api/calls/history')).calls.find(
      (c) => c.callId === callId,
    );
  const aliceEntry = await mine(demo.alice);
  const frankEntry = await mine(FRANK);
  assert.deepEqual(
    [aliceEntry?.direction, aliceEntry?.peer, aliceEntry?.onNet],
    ['outgoing', { userId: null, displayName: null, address: null, number: FRANK_NUMBER }, true],
  );
  assert.deepEqual(
    [frankEntry?.direction, frankEntry?.peer, frankEntry?.onNet],
    ['incoming', { userId: null, displayName: null, address: null, number: ALICE_NUMBER }, true],
  );
  await f.goto(`${web.url}/calls`);
  const row = f.getByRole('listitem').filter({ hasText: ALICE_NUMBER }).first();
  await row.getByText('Incoming phone call (on-net, free)').waitFor();
  await screenshot(f, 'on-net', 'frank-history');
  await a.goto(`${web.url}/calls`);
  await a
    .getByRole('listitem')
    .filter({ hasText: FRANK_NUMBER })
    .first()
    .getByText('Outgoing phone call (on-net, free)')
    .waitFor();

  // The walls: no frame to either page carried the other tenant's ids, names, addresses or tenant.
  assertNothingOf(frankFrames, 'Frank’s page', [w.alice, w.contoso, 'Alice', 'Archer', 'contoso.example']);
  assertNothingOf(aliceFrames, 'Alice’s page', [w.frank, w.fabrikam, 'Frank', 'Fisher', 'fabrikam']);
  assert.ok(app.calls.idle, 'call control holds nothing');
});

test('Alice dials her colleague Bob’s number: it rings Bob as an internal call, on-net', async () => {
  const w = await setUp();
  const app = suite.server.web.app;
  const a = await pageOf(demo.alice);
  const b = await pageOf(demo.bob);
  assert.equal(await dialFrom(a, '020 7946 0020'), null, 'the call is placed');
  const aliceView = a.getByRole('region', { name: 'Call with Bob Baker' });
  await aliceView.waitFor();
  const bobView = await answer(b, 'Alice Archer');
  await aliceView.getByRole('timer').waitFor();
  await hearsSound(b, 'Bob hears Alice');
  await hangUp(bobView);
  await aliceView.waitFor({ state: 'detached' });
  const rows = await until(
    'the record ends',
    () =>
      app.storage.db
        .selectFrom('call_records')
        .selectAll()
        .where('callee_user_id', '=', w.bob)
        .orderBy('placed_at', 'desc')
        .execute(),
    (r) => r.length > 0 && r[0]!.ended_at !== null,
  );
  const r = rows[0]!;
  assert.deepEqual(
    [r.tenant_id, r.direction, r.on_net, r.caller_user_id, r.callee_number, r.callee_number_typed, r.carrier],
    [w.contoso, 'internal', 1, w.alice, BOB_NUMBER, '020 7946 0020', null],
    'one record, Contoso’s: internal, on-net',
  );
  assert.equal((await recordsOf(r.call_id)).length, 1, 'one record for a call within a tenant');
  assert.deepEqual(
    received.filter((m) => m.startsWith('INVITE')),
    [],
    'no INVITE went to the carrier',
  );
  assert.ok(app.calls.idle, 'call control holds nothing');
});

test('Alice’s desk phone dials Frank’s number: his browser rings with her number, they hear each other', async () => {
  const w = await setUp();
  const app = suite.server.web.app;
  const f = await pageOf(FRANK);
  const phone = await suite.server.phone('alice-desk', {
    device: await suite.server.addDevice(demo.alice, 'alice-desk'),
  });
  try {
    await phone.waitFor('REGISTER_OK');
    await phone.dial(`sip:02079460777@${suite.server.domain}`);
    const frankView = await answer(f, ALICE_NUMBER);
    await phone.waitFor('CALL_ESTABLISHED');
    await hearsSound(f, 'Frank hears Alice’s desk phone');
    await until(
      'the phone hears Frank’s browser',
      async () =>
        (await hear(phone.recordings()[0]!.received).catch(() => undefined))?.loudestDbfs ?? -Infinity,
      (dbfs) => dbfs > SILENCE_DBFS,
    );
    await hangUp(frankView);
    await phone.waitFor('CALL_CLOSED');
  } finally {
    await phone.stop();
  }
  const r = await until(
    'the record ends',
    () =>
      app.storage.db
        .selectFrom('call_records')
        .selectAll()
        .where('tenant_id', '=', w.contoso)
        .orderBy('placed_at', 'desc')
        .executeTakeFirstOrThrow(),
    (x) => x.ended_at !== null,
  );
  assert.deepEqual(
    [
      r.direction,
      r.on_net,
      r.caller_user_id,
      r.callee_user_id,
      r.callee_number,
      r.callee_number_typed,
      r.carrier,
    ],
    ['outbound', 1, w.alice, null, FRANK_NUMBER, '02079460777', null],
  );
  assert.deepEqual(
    received.filter((m) => m.startsWith('INVITE')),
    [],
    'no INVITE went to the carrier',
  );
  await until(
    'call control is idle',
    () => app.calls.idle,
    (idle) => idle,
  );
});
