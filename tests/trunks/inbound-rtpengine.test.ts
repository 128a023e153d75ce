/**
 * A call from the phone network on the rtpengine media driver (PARLEY_MEDIA=rtpengine, a daemon the
 * test starts on free ports): SIPp as the carrier on 127.0.0.2 calls Bob's number with PCMA first and
 * plays Debian's g711a.pcap; Bob's browser answers and receives the audio through rtpengine (energy
 * grows); the carrier hangs up; the record says the rtpengine driver carried the carrier's PCMA leg.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demo } from '../web/harness.ts';
import { hearsSound } from '../phones/browser-suite.ts';
import { rtpengineSetup, type RtpengineSetup } from '../phones/rtpengine.ts';
import { addCarrier, carrierCalls, passed } from './sipp-inbound.ts';
import { answer, inboundSuite } from './inbound-steps.ts';

const CARRIER_IP = '127.0.0.2';
const BOB_NUMBER = '+442079460151';
const CALLER = '+447700900127';

let engine: RtpengineSetup | undefined;
let carrierId = '';
const { bob, call, endedRecord } = inboundSuite({
  settings: async () => {
    engine = await rtpengineSetup();
    return engine.settings;
  },
  stop: async () => {
    await engine?.node.stop();
  },
  carriers: async ({ web, domain }) => {
    carrierId = await addCarrier(web, domain, {
      name: 'Carrier A',
      ip: CARRIER_IP,
      numbers: [BOB_NUMBER],
      users: { [BOB_NUMBER]: demo.bob },
    });
  },
  call: { from: CARRIER_IP, to: BOB_NUMBER, caller: CALLER },
});

test('a carrier’s PCMA call reaches Bob’s browser through rtpengine', async () => {
  const b = await bob();
  const run = await carrierCalls('answered-bye', call({ pauseMs: 6000 }));
  const view = await answer(b, CALLER);
  await hearsSound(b, 'Bob');
  await passed(run, 'the carrier’s call');
  await view.waitFor({ state: 'detached' });
  const r = await endedRecord(
    (row) => row.sip_end_code !== null && row.media_driver !== null,
    'the record has its carrier leg and media statistics',
  );
  assert.equal(r.direction, 'inbound');
  assert.equal(r.carrier, carrierId);
  assert.equal(r.carrier_codec, 'PCMA');
  assert.equal(r.media_driver, 'rtpengine');
  assert.ok((r.media_packets_in ?? 0) > 50, `rtpengine relayed the carrier's audio (${r.media_packets_in})`);
});
