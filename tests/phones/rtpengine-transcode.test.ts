/**
 * Issue 17 item 2, on rtpengine: Debian's build transcodes (`rtpengine --codecs`: Opus, G.722, G.711
 * fully supported), so when a browser offers Opus alone the phone is offered G.711 too
 * (`codec: { transcode: [PCMU, PCMA] }` in the ng offer) and rtpengine transcodes between them. With
 * `PARLEY_RTPENGINE_TRANSCODE=false` (a build without codecs) the driver refuses such a call with the
 * coded `no_common_codec` before anything is rung, and leaves no call on the daemon. Against a real
 * daemon on free ports; the browser's offer is a werift WebRTC offer with Opus alone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { isMediaError, NgClient, WebRtcEndpoint } from '../../packages/media/src/index.ts';
import { PhoneMediaDriver } from '../../packages/server/src/sip/phone-media-driver.ts';
import { offersG711, RtpenginePhoneMedia } from '../../packages/server/src/sip/phone-media-rtpengine.ts';
import { startRtpengine, type Rtpengine } from './rtpengine.ts';

let node: Rtpengine;
let webrtc: WebRtcEndpoint;
let fallback: PhoneMediaDriver;
const log = pino({ level: 'silent' });

before(async () => {
  node = await startRtpengine();
  webrtc = new WebRtcEndpoint({ address: '127.0.0.1' });
  fallback = new PhoneMediaDriver({ webrtc, address: '127.0.0.1', mediaTimeoutMs: 0, log });
});
after(async () => {
  await fallback?.close();
  await webrtc?.close();
  await node?.stop();
});

function driver(transcode: boolean): RtpenginePhoneMedia {
  return new RtpenginePhoneMedia({
    nodes: [node.ng],
    fallback,
    timeoutMs: 300,
    retries: 1,
    pingMs: 60_000,
    transcode,
    log,
  });
}

/** A browser's offer with Opus alone (and its WebRTC session, closed by the caller). */
async function opusOnlyOffer() {
  const { session, offer } = await webrtc.offer({ codec: 'OPUS' });
  assert.equal(offersG711(offer), false, 'the browser offers no G.711');
  return { session, offer };
}

/** Calls the daemon holds now. */
async function callsOnDaemon(): Promise<number> {
  const ng = new NgClient({ host: node.host, port: node.port, timeoutMs: 300, retries: 1 });
  try {
    const r = await ng.request('list', { limit: 100 });
    return Array.isArray(r.calls) ? r.calls.length : 0;
  } finally {
    ng.close();
  }
}

test('a browser offering only Opus: the phone is offered PCMU and PCMA by rtpengine, which transcodes', async () => {
  const media = driver(true);
  const { session, offer } = await opusOnlyOffer();
  try {
    const rtp = await media.offerRtp({ peerOffer: offer });
    assert.match(rtp.sdp, /^m=audio \d+ RTP\/AVP .*\b0\b.*\b8\b/m, 'PCMU and PCMA on the phone’s m-line');
    assert.match(rtp.sdp, /^a=rtpmap:0 PCMU\/8000\r$/m);
    assert.equal(fallback.rtp.size, 0, 'carried by rtpengine, not the embedded driver');
    assert.equal(await callsOnDaemon(), 1);
    await rtp.close();
    assert.equal(await callsOnDaemon(), 0, 'the call is deleted when the leg closes');
  } finally {
    await session.close();
    await media.close();
  }
});

test('transcoding off: a browser offering only Opus is refused with no_common_codec, nothing left on the daemon', async () => {
  const media = driver(false);
  const { session, offer } = await opusOnlyOffer();
  try {
    await assert.rejects(
      media.offerRtp({ peerOffer: offer }),
      (e) =>
        isMediaError(e, 'no_common_codec') &&
        /no G\.711/.test((e as Error).message) &&
        /PARLEY_RTPENGINE_TRANSCODE/.test((e as Error).message),
    );
    assert.equal(await callsOnDaemon(), 0);
    assert.equal(fallback.rtp.size, 0, 'not handed to the embedded driver either');
    // A browser that offers G.711 is carried as before.
    const g711 = await webrtc.offer({ codec: 'PCMU' });
    const rtp = await media.offerRtp({ peerOffer: g711.offer });
    assert.match(rtp.sdp, /^a=rtpmap:0 PCMU\/8000\r$/m);
    await rtp.close();
    await g711.session.close();
  } finally {
    await session.close();
    await media.close();
  }
});
