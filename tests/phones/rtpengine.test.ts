/**
 * Issue 17: phone calls' media on a real rtpengine daemon (`PARLEY_MEDIA=rtpengine`), started here on
 * free ports. Chromium signs in as Alice (fake microphone: a beeping tone); Bob and Carol have baresip
 * desk phones speaking espeak-ng speech and recording what they hear.
 * - Alice's browser calls Bob's phone: audio both ways through rtpengine (the phone's SDP points at the
 *   daemon, not at Parley's own RTP ports), the phone's key presses reach the browser
 *   (rtpengine's `--dtmf-log-dest` events), the web Keypad's reach the phone as RFC 4733 (`play DTMF`
 *   on `inject-DTMF` streams), and the audio still flows both ways after them.
 * - Carol's phone calls Alice, who answers: the same, audio and digits both ways.
 * - The daemon is killed mid-call: the call ends (the browser's call view goes, the phone gets a BYE),
 *   and the next call is carried by the embedded driver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Baresip } from './baresip.ts';
import { apiSession, demo } from '../web/harness.ts';
import { ringing, waitForStats } from '../web/call-steps.ts';
import { hear, SILENCE_DBFS } from './audio.ts';
import { until } from './until.ts';
import { browserSuite, digitsAt, hearsSound, pressKeys } from './browser-suite.ts';
import { rtpengineSetup, type RtpengineSetup } from './rtpengine.ts';

let engine: RtpengineSetup | undefined;
const suite = browserSuite(
  async () => {
    engine = await rtpengineSetup();
    return engine.settings;
  },
  async () => engine?.node.stop(),
);
const { page, call } = suite;

/** The newest call record's outcome and media columns (migration 014), once its media are in. */
async function lastRecord() {
  return until(
    'the call record has its media statistics',
    () =>
      suite.server.web.app.storage.db
        .selectFrom('call_records')
        .select([
          'end_reason',
          'media_driver',
          'media_packets_in',
          'media_packets_out',
          'media_loss_pct',
          'media_jitter_ms',
          'media_failure',
        ])
        .orderBy('placed_at', 'desc')
        .executeTakeFirst(),
    (r) => r !== undefined && r.end_reason !== null && r.media_driver != null,
  ).then((r) => r!);
}

async function phoneHears(recording: () => string | undefined, who: string): Promise<void> {
  await until(
    who,
    async () => {
      const f = recording();
      return f ? ((await hear(f).catch(() => undefined))?.loudestDbfs ?? -Infinity) : -Infinity;
    },
    (dbfs) => dbfs > SILENCE_DBFS,
  );
}

/** The phone's recording keeps growing with sound: what it hears now is not silence. */
async function phoneHearsMore(phone: Baresip, who: string): Promise<void> {
  const file = phone.recordings().at(-1)?.received;
  assert.ok(file, `${who}: a recording`);
  const before = (await hear(file)).seconds;
  await until(
    who,
    async () => hear(file).catch(() => undefined),
    (h) => h !== undefined && h.seconds > before + 1 && h.loudestDbfs > SILENCE_DBFS,
  );
}

/** RTP legs of the embedded driver (none while rtpengine carries the calls). */
function rtpSessionsOnParley(): number {
  return suite.server.web.app.phoneMedia.rtp.size;
}

test('on rtpengine: Alice’s browser calls Bob’s phone; audio both ways, Bob’s key presses reach the browser', async () => {
  const bob = await suite.server.phone('bob', {
    device: await suite.server.addDevice(demo.bob, 'bob-desk'),
    answer: 'auto',
  });
  try {
    await bob.waitFor('REGISTER_OK');
    const a = await page(demo.alice);
    await call(a, demo.bob, 'Bob Baker');
    await bob.waitFor('CALL_ESTABLISHED');
    const view = a.getByRole('region', { name: 'Call with Bob Baker' });
    await view.getByRole('timer').waitFor();
    assert.equal(rtpSessionsOnParley(), 0, 'no RTP leg in Parley: the media go through rtpengine');
    assert.equal(suite.server.web.app.rtpengine!.nodes[0]!.legs.size, 2, 'rtpengine carries both legs');
    await bob.waitFor('CALL_RTPESTAB');
    await hearsSound(a, 'Alice');
    await phoneHears(() => bob.recordings()[0]?.received, 'Bob’s phone hears the browser');

    await bob.sendDigits('1');
    await bob.sendDigits('#');
    await view.getByText('Keys pressed by the other side: 1#').waitFor();
    await pressKeys(view, '15*0');
    assert.equal(await digitsAt(bob, 4), '15*0', 'the keypad’s keys reach Bob’s phone as RFC 4733');
    await hearsSound(a, 'Alice, after the key presses');
    await phoneHearsMore(bob, 'Bob’s phone still hears the browser');

    await view.getByRole('button', { name: 'Hang up' }).click();
    await view.waitFor({ state: 'detached' });
    await bob.waitFor('CALL_CLOSED');
    await until(
      'rtpengine legs closed',
      async () => suite.server.web.app.rtpengine!.nodes[0]!.legs.size,
      (n) => n === 0,
    );
    const record = await lastRecord();
    assert.equal(record.end_reason, 'hangup');
    assert.equal(record.media_driver, 'rtpengine');
    assert.ok(Number(record.media_packets_in) > 50, `packets from the phone: ${record.media_packets_in}`);
    assert.ok(Number(record.media_packets_out) > 50, `packets to the phone: ${record.media_packets_out}`);
    assert.equal(record.media_failure, null);
  } finally {
    await bob.stop();
  }
});

test('on rtpengine: Carol’s phone calls Alice, who answers in the browser; audio both ways', async () => {
  const carol = await suite.server.phone('carol', {
    device: await suite.server.addDevice(demo.carol, 'carol-desk'),
  });
  try {
    await carol.waitFor('REGISTER_OK');
    const a = await page(demo.alice);
    await carol.dial(`sip:alice@${suite.server.domain}`);
    const incoming = a.getByRole('alertdialog', { name: 'Carol Chen' });
    await incoming.waitFor();
    assert.equal(await ringing(a), true, 'the browser rings');
    await incoming.getByRole('button', { name: /^Answer with audio/ }).click();
    const view = a.getByRole('region', { name: 'Call with Carol Chen' });
    await view.getByRole('timer').waitFor();
    await carol.waitFor('CALL_ESTABLISHED');
    assert.equal(rtpSessionsOnParley(), 0, 'no RTP leg in Parley');
    await carol.waitFor('CALL_RTPESTAB');
    await hearsSound(a, 'Alice');
    await phoneHears(() => carol.recordings()[0]?.received, 'Carol’s phone hears Alice');
    await carol.sendDigits('42#7');
    await view.getByText('Keys pressed by the other side: 42#7').waitFor();
    await pressKeys(view, '15*0');
    assert.equal(await digitsAt(carol, 4), '15*0', 'the keypad’s keys reach Carol’s phone as RFC 4733');
    await hearsSound(a, 'Alice, after the key presses');
    await phoneHearsMore(carol, 'Carol’s phone still hears Alice');
    await carol.hangup();
    await carol.waitFor('CALL_CLOSED');
    await view.waitFor({ state: 'detached' });
  } finally {
    await carol.stop();
  }
});

test('the rtpengine daemon is killed mid-call: the call ends with a record saying why; the next call is carried by the embedded driver', async () => {
  const bob = await suite.server.phone('bob3', {
    device: await suite.server.addDevice(demo.bob, 'bob-desk3'),
    answer: 'auto',
  });
  try {
    await bob.waitFor('REGISTER_OK');
    const a = await page(demo.alice);
    await call(a, demo.bob, 'Bob Baker');
    await bob.waitFor('CALL_ESTABLISHED');
    const view = a.getByRole('region', { name: 'Call with Bob Baker' });
    await view.getByRole('timer').waitFor();
    await hearsSound(a, 'Alice');

    engine!.node.kill();
    await bob.waitFor('CALL_CLOSED');
    await view.waitFor({ state: 'detached' });
    const record = await lastRecord();
    assert.equal(record.end_reason, 'media_timeout');
    assert.equal(record.media_driver, 'rtpengine');
    assert.match(record.media_failure ?? '', /rtpengine node 127\.0\.0\.1:\d+ stopped answering/);
    assert.equal(suite.server.web.app.rtpengine!.nodes[0]!.up, false, 'the node is marked down');

    // The next call: Parley's own RTP leg carries it, audio both ways.
    await call(a, demo.bob, 'Bob Baker');
    await bob.waitFor('CALL_ESTABLISHED');
    await view.getByRole('timer').waitFor();
    assert.equal(rtpSessionsOnParley(), 1, 'the embedded driver carries the phone leg');
    await hearsSound(a, 'Alice');
    await phoneHears(() => bob.recordings().at(-1)?.received, 'Bob’s phone hears the browser');
    await view.getByRole('button', { name: 'Hang up' }).click();
    await bob.waitFor('CALL_CLOSED');
    const next = await lastRecord();
    assert.equal(next.end_reason, 'hangup');
    assert.equal(next.media_driver, 'embedded');
    assert.ok(Number(next.media_packets_in) > 10, `packets from the phone: ${next.media_packets_in}`);
    assert.equal(next.media_failure, null);
  } finally {
    await bob.stop();
  }
});
