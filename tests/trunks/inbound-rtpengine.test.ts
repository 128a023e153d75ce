/**
 * A call from the phone network on the rtpengine media driver (PARLEY_MEDIA=rtpengine, a daemon the
 * test starts on free ports): SIPp as the carrier on 127.0.0.2 calls Bob's number with PCMA first and
 * plays Debian's g711a.pcap; Bob's browser answers and receives the audio through rtpengine (energy
 * grows); the carrier hangs up; the record says the rtpengine driver carried the carrier's PCMA leg.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demo } from '../web/harness.ts';
import { browserSuite, hearsSound } from '../phones/browser-suite.ts';
import { rtpengineSetup, type RtpengineSetup } from '../phones/rtpengine.ts';
import { until } from '../phones/until.ts';
import { addCarrier, carrierCalls, passed, stopAll } from './sipp-inbound.ts';

const CARRIER_IP = '127.0.0.2';
const BOB_NUMBER = '+442079460151';
const CALLER = '+447700900127';

let engine: RtpengineSetup | undefined;
const suite = browserSuite(
  async () => {
    engine = await rtpengineSetup();
    return engine.settings;
  },
  async () => {
    stopAll();
    await engine?.node.stop();
  },
);

test('a carrier’s PCMA call reaches Bob’s browser through rtpengine', async () => {
  const { web, domain } = suite.server;
  const carrierId = await addCarrier(web, domain, {
    name: 'Carrier A',
    ip: CARRIER_IP,
    numbers: [BOB_NUMBER],
    users: { [BOB_NUMBER]: demo.bob },
  });
  const b = await suite.page(demo.bob);
  const run = await carrierCalls('answered-bye', {
    from: CARRIER_IP,
    port: suite.server.port('udp'),
    to: BOB_NUMBER,
    caller: CALLER,
    pauseMs: 6000,
  });
  const incoming = b.getByRole('alertdialog', { name: CALLER });
  await incoming.waitFor({ timeout: 15_000 });
  await incoming.getByRole('button', { name: /^Answer with audio/ }).click();
  const view = b.getByRole('region', { name: `Call with ${CALLER}` });
  await view.getByRole('timer').waitFor();
  await hearsSound(b, 'Bob');
  await passed(run, 'the carrier’s call');
  await view.waitFor({ state: 'detached' });
  const r = await until(
    'the record has its carrier leg and media statistics',
    () =>
      web.app.storage.db
        .selectFrom('call_records')
        .selectAll()
        .orderBy('placed_at', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow(),
    (row) => row.sip_end_code !== null && row.media_driver !== null,
  );
  assert.equal(r.direction, 'inbound');
  assert.equal(r.carrier, carrierId);
  assert.equal(r.carrier_codec, 'PCMA');
  assert.equal(r.media_driver, 'rtpengine');
  assert.ok((r.media_packets_in ?? 0) > 50, `rtpengine relayed the carrier's audio (${r.media_packets_in})`);
});
