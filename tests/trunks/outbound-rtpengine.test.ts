/**
 * A call out on the rtpengine media driver (`PARLEY_MEDIA=rtpengine`, a real daemon started here):
 * the trunk leg's RTP offer and the browser's WebRTC answer are one rtpengine call, so the carrier's
 * early media and its echo reach Alice's browser through the daemon, not through the process. SIPp as
 * the carrier on 127.0.0.2 answers 183 with SDP, then 200, echoing the RTP it gets; Alice hears
 * herself before and after the answer, hangs up, and the record names the carrier and codecs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demo } from '../web/harness.ts';
import { rtpengineSetup, type RtpengineSetup } from '../phones/rtpengine.ts';
import { completeRecord, earlyMediaEchoCall, outboundSuite } from './outbound-steps.ts';

let engine: RtpengineSetup | undefined;
const suite = outboundSuite(
  async () => {
    engine = await rtpengineSetup();
    return engine.settings;
  },
  async () => engine?.node.stop(),
);

test('on rtpengine: early media and the carrier’s echo reach Alice through the daemon; she hangs up', async () => {
  const trunk = await earlyMediaEchoCall(suite, await suite.page(demo.alice), 'Alice (rtpengine)', 4000);
  const r = await completeRecord(suite);
  assert.equal(r.direction, 'outbound');
  assert.equal(r.carrier, trunk.id);
  assert.equal(r.carrier_codec, 'PCMU');
  assert.equal(r.sip_end_code, 200);
  assert.equal(suite.server.web.app.trunkOutbound?.size, 0);
});
