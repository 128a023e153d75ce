/**
 * The echo test (Parley Echo) from a Node SDK client with werift, against a real server: the client's
 * "microphone" sends an Opus tone; what it hears back is decoded and measured. It hears the spoken
 * prompt (energy above silence), the beep, then its own tone again, starting no sooner than the
 * recording window after the beep; the call is a call like any other (record and history). A client
 * that vanishes mid-echo leaves nothing behind after the grace: no media session, no UDP socket. A
 * client whose socket drops mid-echo restarts ICE on its return and still hears itself back.
 */
import { describe, test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { MediaStream, MediaStreamTrack, RtpHeader, RtpPacket, type RTCPeerConnection } from 'werift';
import { ParleyClient, type Call, type SocketLike } from '@parley/sdk';
import { createCodec, rmsDbfs, toneAmplitude, ToneSource } from '../../media/src/index.ts';
import { makeTenant, startServer, type TestServer } from '../../server/test/helpers/server.ts';
import { reach, ufrag } from './helpers/call-clients.ts';
import { closeWerift, weriftWebRtc } from './helpers/werift.ts';
import { waitUntil } from './helpers/wait.ts';

const RECORD_SECONDS = 2;
const TONE_HZ = 1700;
const BEEP_HZ = 1000;
const WINDOW = 960 * 5; // 100 ms at 48 kHz

/** A microphone that sends a continuous Opus-encoded tone, 20 ms a packet. */
function toneMic(): () => Promise<MediaStream> {
  return async () => {
    const track = new MediaStreamTrack({ kind: 'audio' });
    const codec = createCodec('OPUS');
    const tone = new ToneSource({
      frequencies: [TONE_HZ],
      durationMs: 120_000,
      levelDbfs: -10,
      sampleRate: 48000,
    });
    let seq = 1000;
    let ts = 5000;
    const timer = setInterval(() => {
      if (track.stopped) {
        clearInterval(timer);
        return codec.close();
      }
      seq = (seq + 1) & 0xffff;
      ts = (ts + 960) >>> 0;
      const payload = codec.encode(tone.read(960));
      track.writeRtp(new RtpPacket(new RtpHeader({ sequenceNumber: seq, timestamp: ts }), payload));
    }, 20);
    timer.unref();
    return new MediaStream([track]) as never;
  };
}

/** Decodes what a call's peer connection receives, in 100 ms windows stamped with their arrival. */
function listen(pc: unknown): Array<{ at: number; pcm: Int16Array }> {
  const windows: Array<{ at: number; pcm: Int16Array }> = [];
  const codec = createCodec('OPUS');
  let buf = new Int16Array(WINDOW);
  let fill = 0;
  const watch = (t: MediaStreamTrack) => {
    t.onReceiveRtp.subscribe((rtp) => {
      const pcm = codec.decode(rtp.payload);
      if (!pcm) return;
      for (let i = 0; i < pcm.length; i++) {
        buf[fill++] = pcm[i]!;
        if (fill === WINDOW) {
          windows.push({ at: performance.now(), pcm: buf });
          buf = new Int16Array(WINDOW);
          fill = 0;
        }
      }
    });
  };
  const p = pc as RTCPeerConnection;
  for (const r of p.getReceivers()) if (r.track?.kind === 'audio') watch(r.track);
  p.onTrack.subscribe(watch);
  return windows;
}

/** UDP sockets open in this process (the server's media sessions and the client's peer connections). */
const udp = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;

/** How much of a window's energy is one frequency (about 1 for a pure tone, low for speech). */
function purity(pcm: Int16Array, hz: number): number {
  const rms = 10 ** (rmsDbfs(pcm) / 20);
  return rms === 0 ? 0 : toneAmplitude(pcm, 48000, hz) / (rms * Math.SQRT2);
}

describe('the echo test (Parley Echo) from a Node SDK client', () => {
  let s: TestServer;
  let user: { id: string; token: string };
  const clients: ParleyClient[] = [];
  let socket: WebSocket | null = null;

  const connect = async () => {
    const client = new ParleyClient({
      baseUrl: s.url,
      backoff: { baseMs: 20, maxMs: 100 },
      requestTimeoutMs: 5000,
      device: { id: `echo-tester-${clients.length}`, kind: 'bot' },
      webrtc: { ...weriftWebRtc(), getUserMedia: toneMic(), qualityIntervalMs: 0, iceDisconnectedMs: 500 },
      socketFactory: (url, token) => {
        socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
        return socket as unknown as SocketLike;
      },
    });
    client.useTokens({ accessToken: user.token, expiresIn: 900 });
    clients.push(client);
    await client.connect();
    return client;
  };

  before(async () => {
    s = await startServer('sqlite', { echoRecordSeconds: RECORD_SECONDS, callLostGrace: 1 });
    user = (await makeTenant(s, 'echo')).user;
  });
  let sockets = 0;
  beforeEach(() => {
    sockets = udp();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await waitUntil(() => s.app.calls.idle && s.app.mediaEndpoint.size === 0, 5000, 'no call, no media');
    await closeWerift();
    await waitUntil(() => udp() <= sockets, 5000, `UDP sockets back to ${sockets} after the test`);
  });
  after(() => s.close());

  test('hears the prompt, the beep, then its own tone back after the recording window; history lists it', async () => {
    const client = await connect();
    const call: Call = await client.calls.place({ userId: 'parley-echo' });
    const heard = listen(call.peerConnection);
    await reach(call, 'connected', 10_000);
    assert.equal(s.app.mediaEndpoint.size, 1);
    const ended = new Promise((r) => call.once('ended', r));
    assert.deepEqual(await ended, { reason: 'hangup', endedBy: 'parley-echo' });

    const beepAt = heard.findIndex((w) => rmsDbfs(w.pcm) > -40 && purity(w.pcm, BEEP_HZ) > 0.7);
    assert.ok(beepAt > 0, 'the beep was heard');
    const promptLoud = heard.slice(0, beepAt).filter((w) => rmsDbfs(w.pcm) > -45).length;
    assert.ok(promptLoud >= 10, `the prompt before the beep is above silence (${promptLoud} loud windows)`);
    assert.ok(
      heard.slice(0, beepAt).every((w) => purity(w.pcm, TONE_HZ) < 0.7),
      'the own tone is not heard before the beep',
    );
    const echoAt = heard.findIndex(
      (w, i) => i > beepAt && rmsDbfs(w.pcm) > -40 && purity(w.pcm, TONE_HZ) > 0.7,
    );
    assert.ok(echoAt > beepAt, 'the own tone came back');
    const delay = heard[echoAt]!.at - heard[beepAt]!.at;
    // The recording window (2 s) passes between the beep and the playback (minus the beep's 0.4 s).
    assert.ok(delay >= RECORD_SECONDS * 1000 - 200, `played back ${delay.toFixed(0)} ms after the beep`);
    const echoed = heard.slice(echoAt).filter((w) => purity(w.pcm, TONE_HZ) > 0.7).length;
    assert.ok(echoed >= (RECORD_SECONDS * 10) / 2, `most of the recording came back (${echoed} windows)`);

    const history = await client.calls.history();
    const entry = history.calls.find((c) => c.callId === call.id);
    assert.ok(entry, 'the echo call is in the history');
    assert.equal(entry.direction, 'outgoing');
    assert.equal(entry.disposition, 'answered');
    assert.equal(entry.peer.userId, 'parley-echo');
    assert.equal(entry.peer.displayName, 'Parley Echo');
  });

  test('a socket dropped mid-echo: back within the grace, ICE restarts and the own tone still comes back', async () => {
    const client = await connect();
    const call: Call = await client.calls.place({ userId: 'parley-echo' });
    const heard = listen(call.peerConnection);
    await reach(call, 'connected', 10_000);
    await waitUntil(() => heard.length >= 5, 10_000, 'the prompt arriving');
    const before = ufrag(call.peerConnection!.localDescription?.sdp);
    const ended = new Promise((r) => call.once('ended', r));
    // During the prompt, media flowing: the link drops and comes back; the SDK restarts ICE through the server.
    client.simulateNetworkDrop();
    await waitUntil(
      () =>
        ufrag(call.peerConnection?.localDescription?.sdp) !== before &&
        call.peerConnection?.signalingState === 'stable',
      5000,
      'an ICE restart answered by the echo',
    );
    const restartedAt = performance.now();
    assert.deepEqual(await ended, { reason: 'hangup', endedBy: 'parley-echo' });
    const echoed = heard.filter(
      (w) => w.at > restartedAt && rmsDbfs(w.pcm) > -40 && purity(w.pcm, TONE_HZ) > 0.7,
    ).length;
    assert.ok(
      echoed >= (RECORD_SECONDS * 10) / 2,
      `the own tone came back after the restart (${echoed} windows)`,
    );
  });

  test('a client that vanishes mid-echo: after the grace, no media session and no UDP socket is left', async () => {
    const baseline = udp();
    const client = await connect();
    const call = await client.calls.place({ userId: 'parley-echo' });
    await reach(call, 'connected', 10_000);
    assert.equal(s.app.mediaEndpoint.size, 1);
    assert.ok(udp() > baseline, 'the call holds UDP sockets');
    // The client vanishes without a word: its socket dies and its peer connection is gone.
    socket?.terminate();
    await closeWerift();
    client.disconnect();
    await waitUntil(() => s.app.calls.idle, 5000, 'the call ended lost after the grace');
    await waitUntil(() => s.app.mediaEndpoint.size === 0 && s.app.echo.size === 0, 5000, 'the media closed');
    await waitUntil(() => udp() === baseline, 5000, `UDP sockets back to ${baseline}`);
  });
});
