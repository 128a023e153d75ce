/**
 * G.722 on phone legs (issue 17): negotiated from SDP with RFC 3551's quirk (a 16 kHz codec whose RTP
 * clock and `a=rtpmap` rate are 8000), passed through the bridge byte for byte between two phones that
 * both chose it, never decoded or encoded, and refused with the coded `not_transcodable` where it
 * would have to be transcoded. The phones are the UDP test phones of rtp-phone.ts (G.722 payloads
 * here are opaque bytes: nothing in the path may look inside them).
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  bridge,
  CODECS,
  createCodec,
  isMediaError,
  readRtpSdp,
  RtpEndpoint,
  writeRtpSdp,
} from '../src/index.ts';
import { until } from './client-peer.ts';
import { RtpPhone } from './rtp-phone.ts';

const G722_LINE = 'a=rtpmap:9 G722/8000\r\n';

/** A phone's offer with G.722 first (static type 9), then G.711 and telephone-event. */
const g722Offer = (phone: RtpPhone, codecs = '9 0 101') => phone.offer({ codecs, extra: G722_LINE });

test('G.722 is a 16 kHz codec on an 8000 RTP clock, and there is no codec instance for it', () => {
  assert.equal(CODECS.G722.clockRate, 8000);
  assert.equal(CODECS.G722.sampleRate, 16000);
  assert.equal(CODECS.G722.staticPayloadType, 9);
  assert.throws(
    () => createCodec('G722'),
    (e) => isMediaError(e, 'not_transcodable'),
  );
});

test('SDP: G.722/8000 is read (with or without its rtpmap, and a 16000 some phones write) and written as 8000', () => {
  const offer = (m: string, extra = '') =>
    `v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 5004 RTP/AVP ${m}\r\n${extra}`;
  const prefs = ['G722', 'PCMU', 'PCMA'] as const;
  assert.deepEqual(readRtpSdp(offer('9 0', G722_LINE), 'offer', prefs).codecs[0], {
    name: 'G722',
    payloadType: 9,
  });
  assert.equal(readRtpSdp(offer('9 0'), 'offer', prefs).codecs[0]!.name, 'G722', 'static type 9 alone');
  assert.equal(
    readRtpSdp(offer('9 0', 'a=rtpmap:9 G722/16000\r\n'), 'offer', prefs).codecs[0]!.name,
    'G722',
    'the common mistake of writing the sampling rate',
  );
  // The default preferences are G.711 only: G.722 is taken only when asked for.
  assert.equal(readRtpSdp(offer('9 0'), 'offer', ['PCMU', 'PCMA']).codecs[0]!.name, 'PCMU');
  assert.throws(
    () => readRtpSdp(offer('9'), 'offer', ['PCMU', 'PCMA']),
    (e) => isMediaError(e, 'no_common_codec'),
  );
  const ours = writeRtpSdp({
    address: '127.0.0.1',
    port: 4000,
    rtcpPort: 4001,
    codecs: [
      { name: 'G722', payloadType: 9 },
      { name: 'PCMU', payloadType: 0 },
    ],
    telephoneEvent: 101,
    direction: 'sendrecv',
    rtcpMux: true,
    sessionId: 1,
    sessionVersion: 1,
  });
  assert.match(ours, /^m=audio 4000 RTP\/AVP 9 0 101\r$/m);
  assert.match(ours, /^a=rtpmap:9 G722\/8000\r$/m, 'RFC 3551: 8000, not 16000');
});

test('two phones that both offer G.722: passed through byte for byte, timestamps at 8000 a second', async () => {
  const rtp = new RtpEndpoint({ address: '127.0.0.1', codecs: ['G722', 'PCMU', 'PCMA'] });
  const a = await RtpPhone.create('127.0.0.2');
  const b = await RtpPhone.create('127.0.0.3');
  try {
    const legA = await rtp.answer(g722Offer(a));
    const legB = await rtp.answer(g722Offer(b));
    assert.match(legA.answer, /^m=audio \d+ RTP\/AVP 9 101\r$/m, 'answered with G.722');
    a.learn(legA.answer);
    b.learn(legB.answer);
    const joined = bridge(legA.session, legB.session);
    assert.deepEqual(joined.paths, { aToB: 'passthrough', bToA: 'passthrough' });
    const sent: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      // 20 ms of G.722 is 160 bytes and 160 timestamp units (16 kHz audio, 8 kHz clock).
      const payload = Buffer.alloc(160, (i * 7 + 3) & 0xff);
      sent.push(payload);
      a.sendRaw(a.packet(9, payload, i === 0, 1000 + i * 160));
      b.sendRaw(b.packet(9, payload, i === 0, 5000 + i * 160));
    }
    await until(() => b.received.filter((r) => r.payloadType === 9).length >= 20, 3000, 'G.722 at b');
    await until(() => a.received.filter((r) => r.payloadType === 9).length >= 20, 3000, 'G.722 at a');
    const atB = b.received.filter((r) => r.payloadType === 9);
    assert.deepEqual(
      atB.map((r) => r.payload.toString('hex')),
      sent.map((p) => p.toString('hex')),
      'the same bytes, in order: nothing decoded',
    );
    const steps = atB.slice(1).map((r, i) => (r.timestamp - atB[i]!.timestamp) >>> 0);
    assert.ok(
      steps.every((s) => s === 160),
      `timestamps step by 160 (${steps.join(',')})`,
    );
    assert.equal(joined.stats.transcoded.aToB + joined.stats.transcoded.bToA, 0);
    assert.equal(
      b.received.filter((r) => r.payloadType !== 9 && r.payloadType !== 101).length,
      0,
      'the leg sent nothing of its own (no encoder for G.722)',
    );
    await joined.close();
  } finally {
    await a.close();
    await b.close();
    await rtp.close();
  }
});

test('a G.722 phone and a G.711-only phone: the bridge refuses with not_transcodable', async () => {
  const rtp = new RtpEndpoint({ address: '127.0.0.1', codecs: ['G722', 'PCMU', 'PCMA'] });
  const a = await RtpPhone.create('127.0.0.2');
  const b = await RtpPhone.create('127.0.0.3');
  try {
    const legA = await rtp.answer(g722Offer(a, '9 101'));
    const legB = await rtp.answer(b.offer({ codecs: '0 101' }));
    assert.equal(legA.session.codec.name, 'G722');
    assert.equal(legB.session.codec.name, 'PCMU');
    assert.throws(
      () => bridge(legA.session, legB.session),
      (e) => isMediaError(e, 'not_transcodable') && /G\.722/.test((e as Error).message),
    );
    assert.equal(legA.session.state, 'connected', 'a refused bridge owns neither leg');
  } finally {
    await a.close();
    await b.close();
    await rtp.close();
  }
});

test('a leg made with paced: false sends nothing until joined, so an answer re-made with G.722 is the first codec the phone hears', async () => {
  const rtp = new RtpEndpoint({ address: '127.0.0.1', codecs: ['G722', 'PCMU', 'PCMA'] });
  const a = await RtpPhone.create('127.0.0.2');
  const b = await RtpPhone.create('127.0.0.3');
  try {
    // The caller's leg is answered G.711 first (its callee is not known yet), then re-made with G.722.
    const legA = await rtp.answer(g722Offer(a), { codecs: ['PCMU', 'PCMA'], paced: false });
    assert.equal(legA.session.codec.name, 'PCMU');
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(a.received.length, 0, 'no silence in PCMU before the answer is sent');
    a.learn(legA.session.answer(g722Offer(a), ['G722']));
    const legB = await rtp.answer(g722Offer(b), { paced: false });
    b.learn(legB.answer);
    const joined = bridge(legA.session, legB.session);
    for (let i = 0; i < 5; i++) b.sendRaw(b.packet(9, Buffer.alloc(160, i), i === 0, 7000 + i * 160));
    await until(() => a.received.length >= 5, 3000, 'G.722 at a');
    assert.deepEqual(
      [...new Set(a.received.map((r) => r.payloadType))],
      [9],
      'the caller only ever received G.722',
    );
    await joined.close();
  } finally {
    await a.close();
    await b.close();
    await rtp.close();
  }
});
