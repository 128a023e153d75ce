/**
 * Issue 17, on rtpengine (`PARLEY_MEDIA=rtpengine`, a real daemon on free ports): a browser that offers
 * only Opus calls a desk phone that speaks only PCMU. The phone is offered G.711 by rtpengine
 * (`codec-transcode`) and rtpengine transcodes Opus <-> PCMU; Parley holds no RTP leg. What a user
 * notices: Alice hears Bob's phone (the browser's inbound audio energy grows, decoded from Opus), Bob's
 * phone hears Alice (its recording is above silence), and the browser's call is Opus both ways.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demo } from '../web/harness.ts';
import { hear, SILENCE_DBFS } from './audio.ts';
import { browserSuite, hearsSound } from './browser-suite.ts';
import { codecsInUse, OPUS_ONLY } from './opus-only.ts';
import { rtpengineSetup, type RtpengineSetup } from './rtpengine.ts';
import { until } from './until.ts';

let engine: RtpengineSetup | undefined;
const suite = browserSuite(
  async () => {
    engine = await rtpengineSetup();
    return engine.settings;
  },
  async () => engine?.node.stop(),
);

test('on rtpengine: a browser offering only Opus calls a PCMU-only desk phone; rtpengine transcodes, each hears the other', async () => {
  const bob = await suite.server.phone('bob-pcmu', {
    device: await suite.server.addDevice(demo.bob, 'bob-pcmu'),
    answer: 'auto',
    codecs: ['PCMU'],
  });
  try {
    await bob.waitFor('REGISTER_OK');
    const a = await suite.page(demo.alice);
    await a.context().addInitScript({ content: OPUS_ONLY });
    await suite.call(a, demo.bob, 'Bob Baker'); // a new page load: the init script applies
    await bob.waitFor('CALL_ESTABLISHED');
    const view = a.getByRole('region', { name: 'Call with Bob Baker' });
    await view.getByRole('timer').waitFor();
    assert.equal(suite.server.web.app.phoneMedia.rtp.size, 0, 'no RTP leg in Parley: rtpengine carries it');
    assert.equal(suite.server.web.app.rtpengine!.nodes[0]!.legs.size, 2);
    await bob.waitFor('CALL_RTPESTAB');
    await hearsSound(a, 'Alice hears Bob’s phone');
    assert.deepEqual(
      await a.evaluate(codecsInUse),
      { 'inbound-rtp': 'audio/opus', 'outbound-rtp': 'audio/opus' },
      'the browser’s call is Opus both ways',
    );
    await until(
      'Bob’s phone hears the browser',
      async () =>
        (await hear(bob.recordings()[0]!.received).catch(() => undefined))?.loudestDbfs ?? -Infinity,
      (dbfs) => dbfs > SILENCE_DBFS,
    );
    await view.getByRole('button', { name: 'Hang up' }).click();
    await view.waitFor({ state: 'detached' });
    await bob.waitFor('CALL_CLOSED');
  } finally {
    await bob.stop();
  }
});
