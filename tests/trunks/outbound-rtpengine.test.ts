/**
 * A call out on the rtpengine media driver (`PARLEY_MEDIA=rtpengine`, a real daemon started here):
 * the trunk leg's RTP offer and the browser's WebRTC answer are one rtpengine call, so the carrier's
 * early media and its echo reach Alice's browser through the daemon, not through the process. SIPp as
 * the carrier on 127.0.0.2 answers 183 with SDP, then 200, echoing the RTP it gets; Alice hears
 * herself before and after the answer, hangs up, and the record names the carrier and codecs.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { demo } from '../web/harness.ts';
import { waitForStats } from '../web/call-steps.ts';
import { browserSuite, hearsSound } from '../phones/browser-suite.ts';
import { rtpengineSetup, type RtpengineSetup } from '../phones/rtpengine.ts';
import { until } from '../phones/until.ts';
import {
  assertCarrierPassed,
  CALLED_E164,
  CALLED_TYPED,
  setUpTrunk,
  startCarrier,
  stopAll,
} from './sipp-carrier.ts';
import { dialFrom, lastRecord } from './outbound-steps.ts';

let engine: RtpengineSetup | undefined;
const suite = browserSuite(
  async () => {
    engine = await rtpengineSetup();
    return { ...engine.settings, ...(process.env.TRUNK_DEBUG ? { logLevel: 'debug' } : {}) };
  },
  async () => engine?.node.stop(),
);
after(stopAll);

test('on rtpengine: early media and the carrier’s echo reach Alice through the daemon; she hangs up', async () => {
  const carrier = await startCarrier('uas-early-echo.xml', {
    pauseMs: 4000,
    keys: { session_expires: '1800' },
  });
  const trunk = await setUpTrunk(suite.server.web.app, carrier.port);
  const a = await suite.page(demo.alice);
  assert.equal(await dialFrom(a, CALLED_TYPED), null);
  const view = a.getByRole('region', { name: `Call with ${CALLED_E164}` });
  await hearsSound(a, 'Alice (early media, rtpengine)');
  assert.equal(await view.getByRole('timer').count(), 0, 'not answered yet while the early media play');
  await view.getByRole('timer').waitFor({ timeout: 10_000 });
  const answered = await waitForStats(a, 'Alice: inbound audio', (s) => s.audioEnergy > 0);
  await waitForStats(
    a,
    'Alice hears her echo after the answer',
    (s) => s.audioEnergy > answered.audioEnergy + 0.01,
  );
  await view.getByRole('button', { name: 'Hang up' }).click();
  await view.waitFor({ state: 'detached' });
  assertCarrierPassed(await carrier.done);
  const r = await until(
    'the record is complete',
    () => lastRecord(suite),
    (r) => r.ended_at !== null && r.sip_end_code !== null,
  );
  assert.equal(r.direction, 'outbound');
  assert.equal(r.carrier, trunk.id);
  assert.equal(r.carrier_codec, 'PCMU');
  assert.equal(r.sip_end_code, 200);
  assert.equal(suite.server.web.app.trunkOutbound?.size, 0);
});
