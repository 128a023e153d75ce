/**
 * Issue 17 item 3 (health), with several calls at once and from phones: two phone-to-phone calls are in
 * progress on a real rtpengine daemon (Bob's phone -> Carol's, Dave's phone -> Alice's) when the daemon
 * is killed, as a crash would. Every call in progress ends (each phone hears its call close) with a
 * record saying why (`media_timeout`, `media_failure` naming the node that stopped answering); the node
 * is marked down; a new call a phone places then runs on the embedded driver (Parley's own RTP legs)
 * with audio both ways, and its record says so. The browser cases are in rtpengine.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSession, demo } from '../web/harness.ts';
import { hear, SILENCE_DBFS } from './audio.ts';
import type { Baresip } from './baresip.ts';
import { startPhoneServer, TONE_HZ, type PhoneServer } from './parley.ts';
import { rtpengineSetup, type RtpengineSetup } from './rtpengine.ts';
import { until } from './until.ts';

let server: PhoneServer;
let engine: RtpengineSetup;

before(async () => {
  engine = await rtpengineSetup();
  server = await startPhoneServer(engine.settings);
});
after(async () => {
  await server?.close();
  await engine?.node.stop();
});

/** The newest `n` call records with their outcome and media columns, once all have ended. */
async function lastRecords(n: number) {
  return until(
    `the last ${n} call records are closed with their media columns`,
    () =>
      server.web.app.storage.db
        .selectFrom('call_records')
        .select(['end_reason', 'media_driver', 'media_packets_in', 'media_failure'])
        .orderBy('placed_at', 'desc')
        .limit(n)
        .execute(),
    (rs) => rs.length === n && rs.every((r) => r.end_reason !== null && r.media_driver != null),
  );
}

async function connect(caller: Baresip, callee: Baresip, uri: string): Promise<void> {
  await caller.dial(uri);
  await callee.waitFor('CALL_INCOMING');
  await callee.accept();
  await caller.waitFor('CALL_ESTABLISHED');
  await callee.waitFor('CALL_ESTABLISHED');
}

test('rtpengine killed with two phone calls in progress: both end with records saying why; the next call runs on the embedded driver', async () => {
  const admin = await apiSession(server.web, demo.alice);
  await admin.call('PUT', `/api/users/${await admin.idOf(demo.carol)}/extension`, { extension: '203' });
  await admin.call('PUT', `/api/users/${await admin.idOf(demo.alice)}/extension`, { extension: '201' });
  const phone = async (who: string, address: string, sound: 'speech' | 'tone' = 'speech') =>
    server.phone(who, { device: await server.addDevice(address, `${who}-desk`), sound });
  const bob = await phone('bob', demo.bob);
  const carol = await phone('carol', demo.carol, 'tone');
  const dave = await phone('dave', demo.dave);
  const alice = await phone('alice', demo.alice);
  for (const p of [bob, carol, dave, alice]) await p.waitFor('REGISTER_OK');

  await connect(bob, carol, `sip:203@${server.domain}`);
  await connect(dave, alice, `sip:201@${server.domain}`);
  const node = server.web.app.rtpengine!.nodes[0]!;
  assert.equal(node.legs.size, 4, 'both calls on rtpengine (two legs each)');
  assert.equal(server.web.app.phoneMedia.rtp.size, 0, 'no RTP leg in Parley');

  engine.node.kill();
  for (const p of [bob, carol, dave, alice]) await p.waitFor('CALL_CLOSED');
  const records = await lastRecords(2);
  for (const r of records) {
    assert.equal(r.end_reason, 'media_timeout');
    assert.equal(r.media_driver, 'rtpengine');
    assert.match(r.media_failure ?? '', /rtpengine node 127\.0\.0\.1:\d+ stopped answering/);
  }
  assert.equal(node.up, false, 'the node is marked down');
  assert.equal(node.legs.size, 0);

  // A new call from a phone: Parley's own RTP legs carry it, audio both ways.
  await connect(bob, carol, `sip:203@${server.domain}`);
  assert.equal(server.web.app.phoneMedia.rtp.size, 2, 'the embedded driver carries both phone legs');
  await bob.waitFor('CALL_RTPESTAB');
  await until(
    'Bob hears Carol’s tone on the embedded driver',
    async () =>
      (await hear(bob.recordings().at(-1)!.received, TONE_HZ).catch(() => undefined))?.toneAmplitude ?? 0,
    (a) => a > 0.2,
  );
  await until(
    'Carol hears Bob on the embedded driver',
    async () =>
      (await hear(carol.recordings().at(-1)!.received).catch(() => undefined))?.loudestDbfs ?? -Infinity,
    (dbfs) => dbfs > SILENCE_DBFS,
  );
  await carol.hangup();
  await bob.waitFor('CALL_CLOSED');
  const [next] = await lastRecords(1);
  assert.equal(next!.end_reason, 'hangup');
  assert.equal(next!.media_driver, 'embedded');
  assert.ok(Number(next!.media_packets_in) > 0, `packets from the phone: ${next!.media_packets_in}`);
  assert.equal(next!.media_failure, null);
  await until(
    'no RTP leg left',
    async () => server.web.app.phoneMedia.rtp.size,
    (n) => n === 0,
  );
});
