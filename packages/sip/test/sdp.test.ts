/** SDP offer/answer (RFC 3264) through sdp-transform. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerAudioOffer, createAudioOffer, parseSdp, PCMA, PCMU, TELEPHONE_EVENT } from '../src/index.ts';

const OFFER =
  'v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n' +
  'm=audio 49170 RTP/AVP 8 0 96 101\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendonly\r\n' +
  'm=video 51372 RTP/AVP 31\r\n';

test('the answer keeps the offerer payload order, answers the direction and rejects the video stream', () => {
  const a = answerAudioOffer(OFFER, {
    address: '198.51.100.7',
    port: 30000,
    codecs: [PCMU, PCMA, TELEPHONE_EVENT],
  })!;
  assert.deepEqual(
    a.codecs.map((c) => c.name),
    ['PCMA', 'PCMU', 'telephone-event'],
  );
  assert.deepEqual(a.remote, { address: '192.0.2.1', port: 49170 });
  const sdp = parseSdp(a.sdp);
  assert.equal(sdp.connection?.ip, '198.51.100.7');
  assert.equal(sdp.media[0]!.port, 30000);
  assert.equal(sdp.media[0]!.payloads, '8 0 101');
  assert.equal(sdp.media[0]!.direction, 'recvonly');
  assert.equal(sdp.media[1]!.port, 0);
});

test('no common codec, or garbage: no answer (the UAS sends 488)', () => {
  assert.equal(
    answerAudioOffer(OFFER.replace('8 0 96 101', '96'), { address: '1.2.3.4', port: 1, codecs: [PCMU] }),
    undefined,
  );
  assert.equal(answerAudioOffer('not sdp', { address: '1.2.3.4', port: 1, codecs: [PCMU] }), undefined);
});

test('an offer round-trips through the answerer', () => {
  const offer = createAudioOffer({
    address: '127.0.0.1',
    port: 40000,
    codecs: [PCMU, TELEPHONE_EVENT],
    sessionId: 1,
  });
  assert.match(offer, /m=audio 40000 RTP\/AVP 0 101/);
  assert.match(offer, /a=fmtp:101 0-16/);
  const a = answerAudioOffer(offer, { address: '127.0.0.2', port: 40002, codecs: [PCMU] })!;
  assert.deepEqual(
    a.codecs.map((c) => c.payload),
    [0],
  );
  assert.deepEqual(a.remote, { address: '127.0.0.1', port: 40000 });
});
