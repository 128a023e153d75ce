/**
 * The WebRTC endpoint against a real werift peer over loopback: tones both ways with Opus, PCMU and
 * PCMA (checked by frequency after decoding), the recorder's WAV, trickle ICE both ways, bad offers,
 * and that closing leaves no socket or timer behind.
 */
import assert from 'node:assert/strict';
import dns from 'node:dns';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import test from 'node:test';
import {
  MediaError,
  playTone,
  readWav,
  Recorder,
  rmsDbfs,
  strongestOf,
  ToneSource,
  WebRtcEndpoint,
  zeroCrossingFrequency,
  type CodecName,
} from '../src/index.ts';
import { ClientPeer, until, withoutCandidates } from './client-peer.ts';

const RIVALS = [300, 450, 600, 800, 1000, 1250, 1500, 2000];

async function call(endpoint: WebRtcEndpoint, codecs: CodecName[]) {
  const client = new ClientPeer(codecs);
  const { session, answer } = await endpoint.answer(await client.offer());
  await client.accept(answer);
  await Promise.all([client.connected(), session.untilConnected()]);
  return { client, session };
}

/** Counts of live handles of the kinds a session owns (UDP sockets, timers). */
function handles(): { udp: number; timers: number } {
  const info = process.getActiveResourcesInfo();
  return {
    udp: info.filter((k) => k === 'UDPWrap').length,
    timers: info.filter((k) => k === 'Timeout').length,
  };
}

for (const codec of ['OPUS', 'PCMU', 'PCMA'] as const) {
  test(`${codec}: the client hears the endpoint's tone at its frequency`, async () => {
    const endpoint = new WebRtcEndpoint({ address: '127.0.0.1' });
    const { client, session } = await call(endpoint, [codec]);
    try {
      assert.equal(session.codec.name, codec);
      assert.equal(client.codec, codec);
      const since = performance.now();
      const end = await playTone(session.output, { frequencies: [800], durationMs: 600 }).done;
      assert.equal(end, 'finished');
      await until(() => client.received.filter((r) => r.at >= since).length >= 30, 2000, 'tone packets');
      const { samples, sampleRate } = client.decodeReceived(since);
      // The middle of the tone: past the codec's start-up and before the silence after it.
      const middle = samples.subarray(Math.round(0.1 * sampleRate), Math.round(0.5 * sampleRate));
      assert.equal(strongestOf(middle, sampleRate, RIVALS), 800);
      const zc = zeroCrossingFrequency(middle, sampleRate);
      assert.ok(Math.abs(zc - 800) < 20, `zero-crossing frequency ${zc.toFixed(1)} Hz`);
    } finally {
      await client.close();
      await endpoint.close();
    }
  });
}

test('a call asks no STUN server none was configured for: no name is looked up', async () => {
  const looked: string[] = [];
  const lookup = dns.promises.lookup;
  dns.promises.lookup = ((host: string, ...rest: unknown[]) => {
    looked.push(host);
    return (lookup as (...a: unknown[]) => unknown).call(dns.promises, host, ...rest);
  }) as typeof lookup;
  const endpoint = new WebRtcEndpoint({ address: '127.0.0.1' });
  try {
    const { client } = await call(endpoint, ['PCMU']);
    await client.close();
  } finally {
    dns.promises.lookup = lookup;
    await endpoint.close();
  }
  // werift's fallback would have looked up stun.l.google.com for the session's host candidate.
  assert.deepEqual(
    looked.filter((h) => !/^[\d.:]+$/.test(h)),
    [],
  );
});

for (const codec of ['OPUS', 'PCMU'] as const) {
  test(`${codec}: the client's tone is recorded into a WAV of the right length and pitch`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-media-'));
    const endpoint = new WebRtcEndpoint({ address: '127.0.0.1' });
    const { client, session } = await call(endpoint, [codec]);
    try {
      const path = join(dir, 'rec.wav');
      // Record at 16 kHz whatever the codec: the recorder converts.
      const recorder = new Recorder(session, { maxDurationMs: 1000, sampleRate: 16000, path });
      client.send(
        new ToneSource({ frequencies: [600], durationMs: 3000, sampleRate: session.codec.sampleRate }),
      );
      const rec = await recorder.done;
      assert.equal(rec.end, 'max_duration');
      const wav = await readWav(path);
      assert.equal(wav.sampleRate, 16000);
      assert.equal(wav.samples.length, 16000); // exactly the 1 s maximum
      const tail = wav.samples.subarray(4000);
      assert.equal(strongestOf(tail, 16000, RIVALS), 600);
      // The pitch within 50 Hz: against close rivals. (Not by zero crossings: on a loaded machine
      // the sending peer's pacer skips late frames, and the recorder keeps those gaps as silence.)
      assert.equal(strongestOf(tail, 16000, [500, 550, 600, 650, 700]), 600);
      assert.ok(rmsDbfs(tail) > -40, `recorded level ${rmsDbfs(tail).toFixed(1)} dBFS`);
    } finally {
      await client.close();
      await endpoint.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('silence detection ends a recording after the caller stops speaking, tail trimmed', async () => {
  const endpoint = new WebRtcEndpoint({ address: '127.0.0.1' });
  const { client, session } = await call(endpoint, ['PCMU']);
  try {
    const recorder = new Recorder(session, { maxDurationMs: 5000, silence: { durationMs: 400 } });
    // Leading silence is not cut off (afterSound), then 500 ms of tone, then silence.
    client.send(new ToneSource({ frequencies: [450], durationMs: 0, sampleRate: 8000 }));
    await new Promise((r) => setTimeout(r, 400));
    client.send(new ToneSource({ frequencies: [450], durationMs: 500, sampleRate: 8000 }));
    const rec = await recorder.done;
    assert.equal(rec.end, 'silence');
    assert.ok(rec.heardSound);
    // ~400 ms of leading silence + 500 ms of tone; the 400 ms of trailing silence is trimmed.
    // (Generous bounds: on a loaded machine the sending peer's timer may run late.)
    assert.ok(rec.durationMs > 700 && rec.durationMs < 1400, `recorded ${rec.durationMs} ms`);
    const tone = rec.samples.subarray(rec.samples.length - 3200);
    assert.equal(strongestOf(tone, 8000, RIVALS), 450);
  } finally {
    await client.close();
    await endpoint.close();
  }
});

test('trickle ICE both ways: an offer and an answer without candidates connect through trickled ones', async () => {
  const endpoint = new WebRtcEndpoint({ address: '127.0.0.1' });
  const client = new ClientPeer(['OPUS']);
  try {
    const { session, answer } = await endpoint.answer(await client.offer(true));
    const trickledOut: string[] = [];
    session.on('candidate', (c) => c && trickledOut.push(c.candidate));
    for (const c of client.localCandidates()) await session.addRemoteCandidate(c);
    await session.addRemoteCandidate({ candidate: '' }); // end of candidates
    await client.accept(withoutCandidates(answer));
    assert.ok(session.localCandidates.length >= 1);
    for (const c of session.localCandidates) {
      assert.match(c.candidate, / 127\.0\.0\.1 \d+ typ host/); // only the bound address
      await client.pc.addIceCandidate(c);
    }
    await Promise.all([client.connected(), session.untilConnected()]);
    await assert.rejects(
      session.addRemoteCandidate({ candidate: 'nonsense' }),
      (e: MediaError) => e.code === 'invalid_candidate',
    );
  } finally {
    await client.close();
    await endpoint.close();
  }
});

test('a re-offer from the same peer is answered and the audio goes on', async () => {
  const endpoint = new WebRtcEndpoint({ address: '127.0.0.1' });
  const { client, session } = await call(endpoint, ['OPUS']);
  try {
    await client.pc.setLocalDescription(await client.pc.createOffer());
    const answer = await session.renegotiate(client.pc.localDescription!.sdp);
    await client.accept(answer);
    const since = performance.now();
    await playTone(session.output, { frequencies: [1000], durationMs: 600 }).done;
    await until(
      () => client.received.filter((r) => r.at >= since).length >= 30,
      3000,
      'audio after the re-offer',
    );
    const { samples, sampleRate } = client.decodeReceived(since);
    assert.equal(strongestOf(samples.subarray(sampleRate * 0.1, sampleRate * 0.5), sampleRate, RIVALS), 1000);
    await assert.rejects(session.renegotiate('garbage'), (e: MediaError) => e.code === 'invalid_sdp');
    assert.equal(session.state, 'connected');
  } finally {
    await client.close();
    await endpoint.close();
  }
});

test('an ICE restart from the peer (new credentials) is answered and audio goes on both ways', async () => {
  const endpoint = new WebRtcEndpoint({ address: '127.0.0.1' });
  const { client, session } = await call(endpoint, ['OPUS']);
  try {
    const ufrag = (sdp: string) => /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];
    const before = ufrag(client.pc.localDescription!.sdp);
    const serverBefore = ufrag(client.pc.remoteDescription!.sdp);
    await client.pc.setLocalDescription(await client.pc.createOffer({ iceRestart: true }));
    assert.notEqual(ufrag(client.pc.localDescription!.sdp), before, 'the offer restarts ICE');
    const answer = await session.renegotiate(client.pc.localDescription!.sdp);
    assert.notEqual(ufrag(answer), serverBefore, 'the answer restarts ICE too');
    await client.accept(answer);
    let heard = 0;
    session.on('audio', () => heard++);
    const since = performance.now();
    client.send(new ToneSource({ frequencies: [700], durationMs: 5000 }));
    await playTone(session.output, { frequencies: [1000], durationMs: 600 }).done;
    await until(
      () => client.received.filter((r) => r.at >= since).length >= 30,
      3000,
      "the endpoint's audio after the restart",
    );
    const { samples, sampleRate } = client.decodeReceived(since);
    assert.equal(strongestOf(samples.subarray(sampleRate * 0.1, sampleRate * 0.5), sampleRate, RIVALS), 1000);
    await until(() => heard >= 20, 3000, "the peer's audio after the restart");
    assert.equal(session.state, 'connected');
  } finally {
    await client.close();
    await endpoint.close();
  }
});

test('bad offers get coded errors and open nothing', async () => {
  const endpoint = new WebRtcEndpoint({ address: '127.0.0.1', codecs: ['OPUS'] });
  // Offers made by real peers first (a data-channel-only one, a PCMA-only one), then refused.
  const dc = new ClientPeer(['OPUS']);
  dc.transceiver.stop();
  dc.pc.createDataChannel('chat');
  const dataOnly = (await dc.offer()).replace(/m=audio [\s\S]*?(?=m=application)/, '');
  await dc.close();
  const pcma = new ClientPeer(['PCMA']);
  const pcmaOffer = await pcma.offer();
  await pcma.close();
  await until(() => handles().udp === 0, 3000, 'the offering peers closed');
  const refuse = async (sdp: unknown, code: string) =>
    assert.rejects(endpoint.answer(sdp as string), (e: unknown) => {
      assert.ok(e instanceof MediaError, String(e));
      assert.equal(e.code, code, e.message);
      return true;
    });
  try {
    await refuse('garbage', 'invalid_sdp');
    await refuse('', 'invalid_sdp');
    await refuse(42, 'invalid_sdp');
    await refuse('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n', 'invalid_sdp');
    await refuse(dataOnly, 'no_audio');
    await refuse(pcmaOffer.replace('a=sendrecv', 'a=inactive'), 'no_audio');
    // Audio, but only PCMA while this endpoint takes only Opus.
    await refuse(pcmaOffer, 'no_common_codec');
    // Audio without DTLS-SRTP (plain RTP/AVP is the SIP bridge's, not this endpoint's), or without ICE.
    await refuse(pcmaOffer.replace('UDP/TLS/RTP/SAVPF', 'RTP/AVP'), 'invalid_sdp');
    await refuse(pcmaOffer.replace(/a=fingerprint:.*\r\n/, ''), 'invalid_sdp');
    await refuse(pcmaOffer.replace(/a=ice-pwd:.*\r\n/, ''), 'invalid_sdp');
    await refuse('v=0\r\n' + 'a=x\r\n'.repeat(20_000), 'invalid_sdp'); // over 64 KiB
    assert.equal(endpoint.size, 0);
    assert.equal(handles().udp, 0, 'a refused offer opens no socket');
  } finally {
    await endpoint.close();
  }
});

test('closing leaves no UDP socket or timer behind; closing the endpoint closes its sessions', async () => {
  // Earlier tests' sockets close asynchronously: start from a quiet process.
  await until(() => handles().udp === 0, 3000, 'earlier sockets closed');
  const before = handles();
  const endpoint = new WebRtcEndpoint({ address: '127.0.0.1' });
  const a = await call(endpoint, ['OPUS']);
  const b = await call(endpoint, ['PCMU']);
  assert.equal(endpoint.size, 2);
  assert.equal(handles().udp, 4, 'each session and each client holds one socket');
  playTone(a.session.output, { frequencies: [440], durationMs: 10_000 });
  const closes: string[] = [];
  a.session.on('close', (r) => closes.push(r));
  await a.session.close();
  await a.session.close(); // idempotent
  assert.deepEqual(closes, ['closed']);
  assert.equal(a.session.state, 'closed');
  assert.equal(endpoint.size, 1);
  await endpoint.close(); // the parent closes b's session too
  assert.equal(b.session.state, 'closed');
  assert.equal(endpoint.size, 0);
  await a.client.close();
  await b.client.close();
  await assert.rejects(endpoint.answer('v=0\r\n'), (e: MediaError) => e.code === 'closed');
  await until(
    () => {
      const h = handles();
      return h.udp === 0 && h.timers <= before.timers;
    },
    3000,
    `handles back to ${JSON.stringify(before)} (now ${JSON.stringify(handles())})`,
  );
});
