/**
 * Issue 17 item 2 on rtpengine (`PARLEY_MEDIA=rtpengine`, a real daemon on free ports): G.722 between
 * two phones. rtpengine forwards the codecs the phones offer (the ringing phone's offer is made from the
 * calling phone's), so two G.722 phones talk G.722 through it untouched, and a G.722 phone calling a
 * G.711-only phone ends up on G.711; audio both ways (energy, and Carol's tone at Bob), no RTP leg in
 * Parley. The steps are g722-steps.ts's, which g722-phones.test.ts runs on the embedded driver.
 */
import assert from 'node:assert/strict';
import { g722Tests } from './g722-steps.ts';
import { rtpengineSetup, type RtpengineSetup } from './rtpengine.ts';

let engine: RtpengineSetup | undefined;

g722Tests({
  prefix: 'on rtpengine: ',
  settings: async () => {
    engine = await rtpengineSetup();
    return engine.settings;
  },
  stop: async () => {
    await engine?.node.stop();
  },
  whileUp: (server) => {
    assert.equal(server.web.app.phoneMedia.rtp.size, 0, 'no RTP leg in Parley');
    assert.equal(server.web.app.rtpengine!.nodes[0]!.legs.size, 2, 'both phones in one rtpengine call');
  },
});
