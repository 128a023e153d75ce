/**
 * The bridge and the WebRTC session's offerer role and DTMF, against real peers over loopback: a
 * werift peer as the browser, the UDP "phone" of rtp-phone.ts as the desk phone. Tones are checked
 * by frequency at the far end; digits by their RFC 4733 packets and the events reported; closing
 * either leg ends both and leaves no socket.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import test from 'node:test';
import {
  noDefaultStun,
  bridge,
  encodeDtmfPayload,
  playTone,
  RtpEndpoint,
  strongestOf,
  ToneSource,
  WebRtcEndpoint,
  type BridgeSide,
  type CodecName,
  type DtmfEvent,
} from '../src/index.ts';
import { ClientPeer, until } from './client-peer.ts';
import { RtpPhone } from './rtp-phone.ts';

const RIVALS = [300, 450, 600, 800, 1000, 1250, 1500, 2000];

function udpHandles(): number {
  return process.getActiveResourcesInfo().filter((k) => k === 'UDPWrap').length;
}

/** A browser (werift) calling in, answered with `codecs`, and a phone called by offer. */
async function browserAndPhone(browserCodecs: CodecName[], phoneCodecs = '0 8 101') {
  const webrtc = new WebRtcEndpoint({ address: '127.0.0.1' });
  const rtp = new RtpEndpoint({ address: '127.0.0.1' });
  const client = new ClientPeer(browserCodecs, '127.0.0.1', true);
  const phone = await RtpPhone.create();
  const close = async () => {
    await client.close();
    await phone.close();
    await webrtc.close(); // closes the bridged sessions too, if they were made
    await rtp.close();
  };
  try {
    const browser = await webrtc.answer(await client.offer(), { codecs: ['PCMU', 'PCMA', 'OPUS'] });
    await client.accept(browser.answer);
    const leg = await rtp.offer({ codecs: ['PCMU', 'PCMA'] });
    phone.learn(leg.offer);
    leg.session.accept(phone.offer({ codecs: phoneCodecs }));
    await Promise.all([client.connected(), browser.session.untilConnected()]);
    const joined = bridge(browser.session, leg.session);
    return { client, phone, browser: browser.session, leg: leg.session, joined, close };
  } catch (err) {
    await close(); // a failed start leaves no socket for the next test to trip on
    throw err;
  }
}

test('browser <-> phone, both PCMU: passed through on arrival both ways, digits both ways', async () => {
  const c = await browserAndPhone(['PCMU']);
  try {
    assert.deepEqual(c.joined.paths, { aToB: 'passthrough', bToA: 'passthrough' });
    // The browser's tone reaches the phone; the phone's the browser.
    const since = performance.now();
    const paced = () => [c.browser.stats.pacer.emitted, c.leg.stats.pacer.emitted];
    const pacedBefore = paced();
    c.client.send(new ToneSource({ frequencies: [800], durationMs: 3000, sampleRate: 8000 }));
    c.phone.send(new ToneSource({ frequencies: [1250], durationMs: 3000, sampleRate: 8000 }));
    await until(
      () => c.phone.received.filter((r) => r.at >= since && r.payloadType === 0).length >= 40,
      5000,
      'browser audio at the phone',
    );
    await until(
      () => c.client.received.filter((r) => r.at >= since && r.payloadType === 0).length >= 40,
      5000,
      'phone audio at the browser',
    );
    assert.equal(strongestOf(c.phone.decode(since, 0).subarray(1600), 8000, RIVALS), 800);
    assert.equal(strongestOf(c.client.decodeReceived(since).samples.subarray(1600), 8000, RIVALS), 1250);
    // Passed through: the legs' pacers sent nothing once joined (a frame paced just before the join
    // may still land after `since`), so what the far ends got was forwarded packets.
    assert.deepEqual(paced(), pacedBefore);
    assert.ok(c.joined.stats.forwarded.aToB >= 39 && c.joined.stats.forwarded.bToA >= 39);
    assert.equal(c.joined.stats.transcoded.aToB + c.joined.stats.transcoded.bToA, 0);
    // The phone's digit: reported by the bridge (for signalling) and forwarded to the browser as RFC 4733.
    const heard: Array<[BridgeSide, DtmfEvent]> = [];
    c.joined.on('dtmf', (side, e) => heard.push([side, e]));
    c.phone.sendDigit(4);
    await until(() => heard.length === 1, 3000, 'the phone digit');
    assert.deepEqual([heard[0]![0], heard[0]![1].digit], ['b', '4']);
    await until(
      () => c.client.received.some((r) => r.payloadType === 126 && r.payload[0] === 4),
      3000,
      'the event at the browser',
    );
    // The browser's digit (RTCDTMFSender's packets): reaches the phone as RFC 4733 with its payload type.
    const ts = 777_000;
    c.client.sendEvent(encodeDtmfPayload(9, false, 10, 160), ts, true);
    for (let i = 0; i < 3; i++) c.client.sendEvent(encodeDtmfPayload(9, true, 10, 800), ts, false);
    await until(() => heard.length === 2, 3000, 'the browser digit');
    assert.deepEqual([heard[1]![0], heard[1]![1].digit, heard[1]![1].durationMs], ['a', '9', 100]);
    await until(
      () => c.phone.received.filter((r) => r.payloadType === 101 && r.payload[0] === 9).length >= 4,
      3000,
      'the event at the phone',
    );
  } finally {
    await c.close();
  }
});

test('browser Opus <-> phone PCMU: transcoded through the pacer, the tones keep their pitch', async () => {
  const webrtc = new WebRtcEndpoint({ address: '127.0.0.1' });
  const rtp = new RtpEndpoint({ address: '127.0.0.1' });
  const client = new ClientPeer(['OPUS']);
  const phone = await RtpPhone.create();
  try {
    const browser = await webrtc.answer(await client.offer());
    await client.accept(browser.answer);
    const leg = await rtp.answer(phone.offer({ codecs: '0' }));
    phone.learn(leg.answer);
    await Promise.all([client.connected(), browser.session.untilConnected()]);
    const joined = bridge(browser.session, leg.session);
    assert.deepEqual(joined.paths, { aToB: 'transcode', bToA: 'transcode' });
    const since = performance.now();
    client.send(new ToneSource({ frequencies: [600], durationMs: 3000, sampleRate: 48000 }));
    phone.send(new ToneSource({ frequencies: [1000], durationMs: 3000, sampleRate: 8000 }));
    await until(() => phone.received.filter((r) => r.at >= since).length >= 30, 15_000, 'audio at the phone');
    await until(
      () => client.received.filter((r) => r.at >= since).length >= 30,
      15_000,
      'audio at the browser',
    );
    assert.equal(strongestOf(phone.decode(since, 0).subarray(1600), 8000, RIVALS), 600);
    const { samples, sampleRate } = client.decodeReceived(since);
    assert.equal(strongestOf(samples.subarray(sampleRate / 5), sampleRate, RIVALS), 1000);
    await joined.close();
  } finally {
    await client.close();
    await phone.close();
    await webrtc.close();
    await rtp.close();
  }
});

test('phone <-> phone anchored, PCMU to PCMA: converted per packet on arrival, digits forwarded', async () => {
  const base = udpHandles();
  const rtp = new RtpEndpoint({ address: '127.0.0.1' });
  const alice = await RtpPhone.create('127.0.0.2');
  const bob = await RtpPhone.create('127.0.0.3');
  try {
    const a = await rtp.answer(alice.offer({ codecs: '0 101' }));
    alice.learn(a.answer);
    const b = await rtp.offer({ codecs: ['PCMU', 'PCMA'] }); // Alice's codec first
    bob.learn(b.offer);
    b.session.accept(bob.offer({ codecs: '8 101' })); // Bob's phone only takes PCMA
    const joined = bridge(a.session, b.session);
    assert.deepEqual(joined.paths, { aToB: 'g711', bToA: 'g711' });
    const since = performance.now();
    alice.send(new ToneSource({ frequencies: [450], durationMs: 3000, sampleRate: 8000 }), 'ulaw');
    bob.send(new ToneSource({ frequencies: [1500], durationMs: 3000, sampleRate: 8000 }), 'alaw');
    await until(
      () => bob.received.filter((r) => r.at >= since && r.payloadType === 8).length >= 40,
      5000,
      'Alice at Bob',
    );
    await until(
      () => alice.received.filter((r) => r.at >= since && r.payloadType === 0).length >= 40,
      5000,
      'Bob at Alice',
    );
    assert.equal(strongestOf(bob.decode(since, 8).subarray(1600), 8000, RIVALS), 450);
    assert.equal(strongestOf(alice.decode(since, 0).subarray(1600), 8000, RIVALS), 1500);
    assert.ok(joined.stats.converted.aToB >= 35, JSON.stringify(joined.stats));
    alice.sendDigit(10); // '*'
    await until(
      () => bob.received.filter((r) => r.payloadType === 101 && r.payload[0] === 10).length >= 4,
      3000,
      'the digit at Bob',
    );
    // Forwarded on Bob's timeline: one timestamp for the whole event, after his audio's.
    const events = bob.received.filter((r) => r.payloadType === 101);
    assert.equal(new Set(events.map((e) => e.timestamp)).size, 1);
    // Closing one leg (Bob's side went away) ends the other and the bridge.
    const ended = new Promise((r) => joined.once('close', r));
    await b.session.close('failed');
    assert.deepEqual(await ended, { by: 'b', reason: 'failed' });
    assert.equal(a.session.state, 'closed');
    assert.equal(rtp.size, 0);
  } finally {
    await alice.close();
    await bob.close();
    await rtp.close();
  }
  await until(() => udpHandles() <= base, 3000, 'every socket closed');
});

test('WebRTC as offerer: a browser answers the server offer; digits both ways; close ends both legs', async () => {
  const webrtc = new WebRtcEndpoint({ address: '127.0.0.1' });
  const client = new ClientPeer(['PCMA'], '127.0.0.1', true);
  try {
    const { session, offer } = await webrtc.offer({ codec: 'PCMA' });
    assert.match(offer, /^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 8 101\r$/m);
    assert.match(offer, /^a=rtpmap:101 telephone-event\/8000\r$/m);
    await client.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    noDefaultStun(client.pc);
    await client.pc.setLocalDescription(await client.pc.createAnswer());
    await session.accept(client.pc.localDescription!.sdp);
    await Promise.all([client.connected(), session.untilConnected()]);
    assert.equal(session.codec.name, 'PCMA');
    const since = performance.now();
    await playTone(session.output, { frequencies: [800], durationMs: 600 }).done;
    await until(
      () => client.received.filter((r) => r.at >= since && r.payloadType === 8).length >= 25,
      3000,
      'PCMA at the browser',
    );
    assert.equal(strongestOf(client.decodeReceived(since).samples.subarray(800, 4000), 8000, RIVALS), 800);
    // Digits to the browser: RFC 4733 packets with the offer's payload type 101.
    await session.sendDtmf('3', { durationMs: 80 });
    const events = client.received.filter((r) => r.payloadType === 101);
    assert.ok(events.length >= 4 && events.every((e) => e.payload[0] === 3));
    assert.equal(events.filter((e) => e.payload[1]! & 0x80).length, 3);
    // A digit from the browser.
    const heard: DtmfEvent[] = [];
    session.on('dtmf', (e) => heard.push(e));
    client.sendEvent(encodeDtmfPayload(12, false, 10, 160), 5000, true); // 'A'
    client.sendEvent(encodeDtmfPayload(12, true, 10, 480), 5000, false);
    await until(() => heard.length === 1, 3000, 'the browser digit');
    assert.deepEqual([heard[0]!.digit, heard[0]!.durationMs], ['A', 60]);
    await assert.rejects(session.accept(offer), (e: { code?: string }) => e.code === 'unexpected_answer');
  } finally {
    await client.close();
    await webrtc.close();
  }
});

test('an announcement to one leg: the browser hears the tone instead of the phone, then the phone again', async () => {
  const c = await browserAndPhone(['PCMU']);
  try {
    c.phone.send(new ToneSource({ frequencies: [1250], durationMs: 6000, sampleRate: 8000 }));
    await until(() => c.client.received.filter((r) => r.payloadType === 0).length >= 25, 5000, 'the phone');
    const since = performance.now();
    const played = c.joined.announce('a', new ToneSource({ frequencies: [800], durationMs: 1000 }));
    assert.equal(await played.done, 'finished');
    const after = performance.now();
    // What reached the browser during the announcement: the tone, not the phone.
    const during = c.client.received.filter(
      (r) => r.at >= since + 200 && r.at < after && r.payloadType === 0,
    );
    assert.ok(during.length >= 30, `the tone's frames arrived (${during.length})`);
    assert.equal(
      strongestOf(c.client.decodeReceived(since + 200).samples.subarray(0, 4000), 8000, RIVALS),
      800,
    );
    assert.equal(c.joined.paths.bToA, 'passthrough');
    // The phone's direction untouched meanwhile, and the phone heard again once it ended.
    await until(
      () => c.client.received.filter((r) => r.at >= after + 300 && r.payloadType === 0).length >= 25,
      5000,
      'the phone again',
    );
    assert.equal(
      strongestOf(c.client.decodeReceived(after + 300).samples.subarray(0, 4000), 8000, RIVALS),
      1250,
    );
  } finally {
    await c.close();
  }
});
