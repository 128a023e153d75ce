/**
 * The plain RTP/AVP session against a "phone" on real UDP sockets on other loopback addresses:
 * G.711 tones both ways (checked by frequency), latching to where the phone really sends from and
 * ignoring a stranger, RFC 4733 digits both ways, RTCP reports both ways and a BYE, the media
 * timeout on an injected clock, the offerer role, coded errors for bad SDP, the port range, and no
 * socket left after close.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import test from 'node:test';
import { FakeClock } from '@parley/sip';
import {
  MediaError,
  parseRtp,
  playTone,
  RtpEndpoint,
  strongestOf,
  ToneSource,
  type DtmfEvent,
  type MediaSessionState,
} from '../src/index.ts';
import { until } from './client-peer.ts';
import { RtpPhone } from './rtp-phone.ts';

const RIVALS = [300, 450, 600, 800, 1000, 1250, 1500, 2000];

function udpHandles(): number {
  return process.getActiveResourcesInfo().filter((k) => k === 'UDPWrap').length;
}

test('a phone offer is answered with one G.711 codec and telephone-event; tones cross both ways', async () => {
  const endpoint = new RtpEndpoint({ address: '127.0.0.1', codecs: ['PCMA', 'PCMU'] });
  const phone = await RtpPhone.create();
  try {
    const { session, answer } = await endpoint.answer(phone.offer());
    assert.match(answer, /^m=audio \d+ RTP\/AVP 8 101\r$/m);
    assert.match(answer, /^a=rtpmap:101 telephone-event\/8000\r$/m);
    assert.match(answer, /^c=IN IP4 127\.0\.0\.1\r$/m);
    assert.equal(session.codec.name, 'PCMA');
    assert.equal(session.state, 'connected');
    phone.learn(answer);
    // The endpoint's tone reaches the phone at its pitch.
    const since = performance.now();
    await playTone(session.output, { frequencies: [1000], durationMs: 600 }).done;
    await until(() => phone.received.filter((r) => r.at >= since).length >= 25, 3000, 'tone packets');
    const heard = phone.decode(since, 8);
    assert.equal(strongestOf(heard.subarray(800, 4000), 8000, RIVALS), 1000);
    // The phone's tone is decoded by the session.
    const frames: Int16Array[] = [];
    session.on('audio', (f) => frames.push(f.samples));
    phone.send(new ToneSource({ frequencies: [600], durationMs: 2000, sampleRate: 8000 }), 'alaw');
    await until(() => frames.length >= 20, 3000, 'frames from the phone');
    const pcm = Int16Array.from(frames.slice(2).flatMap((f) => [...f]));
    assert.equal(strongestOf(pcm, 8000, RIVALS), 600);
    assert.equal(session.stats.decodeErrors, 0);
  } finally {
    await phone.close();
    await endpoint.close();
  }
});

test('latching: media goes where the phone really sends from; a stranger is ignored', async () => {
  const endpoint = new RtpEndpoint({ address: '127.0.0.1' });
  const phone = await RtpPhone.create('127.0.0.2');
  const stranger = createSocket('udp4');
  await new Promise<void>((r) => stranger.bind(0, '127.0.0.4', () => r()));
  try {
    // The SDP names an address nobody listens on (the phone's private address behind NAT).
    const { session, answer } = await endpoint.answer(phone.offer({ advertise: '127.0.0.3', port: 40000 }));
    phone.learn(answer);
    assert.equal(session.stats.remote?.address, '127.0.0.3');
    const latched = new Promise((r) => session.once('latched', r));
    phone.send(new ToneSource({ frequencies: [800], durationMs: 5000, sampleRate: 8000 }));
    assert.deepEqual(await latched, { address: '127.0.0.2', port: phone.port });
    assert.equal(session.stats.latched, true);
    const since = performance.now();
    await until(
      () => phone.received.filter((r) => r.at >= since).length >= 10,
      3000,
      'media at the latched address',
    );
    // A stranger's packets of the right payload type change nothing.
    const before = session.stats.packetsReceived;
    for (let i = 0; i < 20; i++) {
      const p = phone.packet(0, Buffer.alloc(160, 0xff));
      p.writeUInt32BE(0xdead, 8);
      stranger.send(p, session.localPort, '127.0.0.1');
    }
    await until(() => session.stats.ignored >= 20, 3000, 'the stranger ignored');
    assert.deepEqual(session.stats.remote, { address: '127.0.0.2', port: phone.port });
    await until(() => session.stats.packetsReceived > before, 3000, "the phone's own still counted");
  } finally {
    stranger.close();
    await phone.close();
    await endpoint.close();
  }
});

test('RFC 4733 digits: a phone key press is one event each; digits sent reach the phone as events', async () => {
  const endpoint = new RtpEndpoint({ address: '127.0.0.1' });
  const phone = await RtpPhone.create();
  try {
    const { session, answer } = await endpoint.answer(phone.offer());
    phone.learn(answer);
    const digits: DtmfEvent[] = [];
    session.on('dtmf', (d) => digits.push(d));
    phone.sendDigit(1);
    phone.sendDigit(11); // '#'
    // An audio packet after them: once it is in, every repeated end packet before it was read too.
    phone.sendRaw(phone.packet(0, Buffer.alloc(160, 0xff)));
    await until(() => session.stats.packetsReceived >= 13, 3000, 'the digits and the audio packet after');
    assert.deepEqual(
      digits.map((d) => [d.digit, d.durationMs]),
      [
        ['1', 100],
        ['#', 100],
      ],
    );
    // Out: '5' and '9' as events on one timestamp each, marker on the first, E bit on the last three.
    await session.sendDtmf('59', { durationMs: 100, gapMs: 50 });
    const events = phone.received.filter((r) => r.payloadType === 101);
    const byTs = new Map<number, typeof events>();
    for (const e of events) byTs.set(e.timestamp, [...(byTs.get(e.timestamp) ?? []), e]);
    assert.equal(byTs.size, 2);
    const [first, second] = [...byTs.values()];
    for (const [packets, code] of [
      [first!, 5],
      [second!, 9],
    ] as const) {
      assert.ok(packets.every((p) => p.payload[0] === code));
      assert.equal(packets[0]!.marker, true);
      assert.ok(packets.slice(1).every((p) => !p.marker));
      const ends = packets.filter((p) => p.payload[1]! & 0x80);
      assert.equal(ends.length, 3);
      assert.equal(ends[0]!.payload.readUInt16BE(2), 800); // 100 ms at 8 kHz
    }
    await assert.rejects(session.sendDtmf('12x'), (e: MediaError) => e.code === 'invalid_dtmf');
  } finally {
    await phone.close();
    await endpoint.close();
  }
});

test('RTCP: sender reports with a CNAME reach the phone, its receiver report is read, BYE on close', async () => {
  const endpoint = new RtpEndpoint({ address: '127.0.0.1', rtcpIntervalMs: 100 });
  const phone = await RtpPhone.create();
  try {
    const { session, answer } = await endpoint.answer(phone.offer());
    phone.learn(answer);
    phone.send(new ToneSource({ frequencies: [450], durationMs: 3000, sampleRate: 8000 }));
    await until(() => phone.rtcpReceived.some((p) => p[1] === 200), 3000, 'a sender report');
    const sr = phone.rtcpReceived.find((p) => p[1] === 200)!;
    const ssrc = sr.readUInt32BE(4);
    assert.equal(ssrc, phone.received.find((r) => r.payloadType === 0)!.ssrc);
    // SR then SDES (type 202) with a CNAME item in the same compound packet.
    const srLength = (sr.readUInt16BE(2) + 1) * 4;
    assert.equal(sr[srLength + 1], 202);
    assert.equal(sr[srLength + 8], 1);
    // The phone's receiver report about the session's stream: 25% lost.
    const rr = Buffer.alloc(32);
    rr[0] = 0x81;
    rr[1] = 201;
    rr.writeUInt16BE(7, 2);
    rr.writeUInt32BE(phone.ssrc, 4);
    rr.writeUInt32BE(ssrc, 8);
    rr.writeUInt32BE((64 << 24) | 12, 12);
    rr.writeUInt32BE(80, 20); // jitter 80 ticks = 10 ms
    phone.sendRaw(rr, true);
    await until(() => session.stats.remoteReport !== undefined, 3000, 'the receiver report read');
    assert.deepEqual(
      { ...session.stats.remoteReport, roundTripMs: undefined },
      { fractionLost: 0.25, cumulativeLost: 12, jitterMs: 10, roundTripMs: undefined },
    );
    assert.ok(session.stats.rtcpReceived >= 1);
    const count = phone.rtcpReceived.length;
    await session.close();
    await until(() => phone.rtcpReceived.length > count, 3000, 'the BYE');
    const last = phone.rtcpReceived.at(-1)!;
    assert.ok(last.includes(Buffer.from([0x81, 203])), 'a BYE in the last compound packet');
  } finally {
    await phone.close();
    await endpoint.close();
  }
});

test('media timeout: reported after the silence while the phone sends, not while it holds', async () => {
  const clock = new FakeClock();
  const endpoint = new RtpEndpoint({ address: '127.0.0.1', mediaTimeoutMs: 1000, clock });
  const phone = await RtpPhone.create();
  try {
    const { session, answer } = await endpoint.answer(phone.offer());
    phone.learn(answer);
    const states: MediaSessionState[] = [];
    const events: string[] = [];
    session.on('state', (s) => states.push(s));
    session.on('timeout', () => events.push('timeout'));
    session.on('media', () => events.push('media'));
    clock.advance(600);
    phone.sendRaw(phone.packet(0, Buffer.alloc(160, 0xff)));
    await until(() => session.stats.packetsReceived === 1, 3000, 'one packet');
    clock.advance(999);
    assert.deepEqual(events, []);
    clock.advance(2);
    assert.deepEqual(events, ['timeout']);
    assert.equal(session.state, 'disconnected');
    phone.sendRaw(phone.packet(0, Buffer.alloc(160, 0xff)));
    await until(() => events.length === 2, 3000, 'media back');
    assert.deepEqual(events, ['timeout', 'media']);
    assert.deepEqual(states, ['disconnected', 'connected']);
    // On hold: the phone re-offers a=recvonly (it sends nothing), so its silence is no timeout.
    session.renegotiate(phone.offer().replace('a=sendrecv', 'a=recvonly'));
    clock.advance(5000);
    assert.deepEqual(events, ['timeout', 'media']);
  } finally {
    await phone.close();
    await endpoint.close();
  }
});

test('as offerer: the phone answers PCMA without telephone-event; digits are refused with a code', async () => {
  const endpoint = new RtpEndpoint({ address: '127.0.0.1' });
  const phone = await RtpPhone.create();
  try {
    const { session, offer } = await endpoint.offer();
    assert.match(offer, /^m=audio \d+ RTP\/AVP 0 8 101\r$/m);
    assert.match(offer, /^a=rtcp-mux\r$/m);
    assert.equal(session.state, 'connecting');
    phone.learn(offer);
    session.accept(phone.offer({ codecs: '8' }));
    assert.equal(session.codec.name, 'PCMA');
    assert.equal(session.state, 'connected');
    const since = performance.now();
    await playTone(session.output, { frequencies: [1250], durationMs: 400 }).done;
    await until(() => phone.received.filter((r) => r.at >= since).length >= 15, 3000, 'PCMA packets');
    assert.ok(phone.received.every((r) => r.payloadType === 8));
    assert.equal(strongestOf(phone.decode(since, 8).subarray(400, 2400), 8000, RIVALS), 1250);
    await assert.rejects(session.sendDtmf('1'), (e: MediaError) => e.code === 'no_telephone_event');
    assert.throws(
      () => session.accept(phone.offer()),
      (e: MediaError) => e.code === 'unexpected_answer',
    );
  } finally {
    await phone.close();
    await endpoint.close();
  }
});

test('bad SDP gets coded errors and opens no socket', async () => {
  const endpoint = new RtpEndpoint({ address: '127.0.0.1' });
  const phone = await RtpPhone.create();
  const base = udpHandles();
  const refuse = (sdp: unknown, code: string) =>
    assert.rejects(endpoint.answer(sdp as string), (e: unknown) => {
      assert.ok(e instanceof MediaError, String(e));
      assert.equal(e.code, code, e.message);
      return true;
    });
  try {
    await refuse('garbage', 'invalid_sdp');
    await refuse(42, 'invalid_sdp');
    await refuse(phone.offer().replace(/^c=.*\r\n/gm, ''), 'invalid_sdp');
    await refuse(phone.offer().replace('RTP/AVP', 'RTP/SAVP'), 'unsupported_transport');
    await refuse(phone.offer().replace('RTP/AVP', 'UDP/TLS/RTP/SAVPF'), 'unsupported_transport');
    await refuse(
      phone.offer({ codecs: '18' }).replace('a=ptime', 'a=rtpmap:18 G729/8000\r\na=ptime'),
      'no_common_codec',
    );
    await refuse(phone.offer().replace(/^m=audio \d+/m, 'm=audio 0'), 'no_audio');
    assert.equal(udpHandles(), base);
  } finally {
    await phone.close();
    await endpoint.close();
  }
});

test('ports come from the range in even/odd pairs; a full range is a coded error; close frees them', async () => {
  await until(() => udpHandles() === 0, 3000, 'earlier tests closed');
  const endpoint = new RtpEndpoint({ address: '127.0.0.1', portRange: [31000, 31003] });
  const a = await endpoint.offer();
  const b = await endpoint.offer();
  const ports = [a.session.localPort, b.session.localPort].sort();
  assert.deepEqual(ports, [31000, 31002]);
  assert.match(a.offer, new RegExp(`^a=rtcp:${a.session.localPort + 1}\\r$`, 'm'));
  await assert.rejects(endpoint.offer(), (e: MediaError) => e.code === 'no_ports');
  assert.equal(endpoint.size, 2);
  await endpoint.close();
  assert.equal(endpoint.size, 0);
  await until(() => udpHandles() === 0, 3000, 'every socket closed');
  await assert.rejects(endpoint.offer(), (e: MediaError) => e.code === 'closed');
  // The RTP packet parser the session reads with refuses what is not RTP version 2.
  assert.equal(parseRtp(Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), undefined);
});
