/**
 * A call's media and negotiation without a server: two werift peers whose `call.sdp` and `call.ice`
 * go straight to each other (the relay the server is, minus the referee). Audio flows both ways; the
 * camera goes on and off from either side with a new offer; both sides turning the camera on at the
 * same instant (glare) ends with both videos; an ICE restart renews the credentials and media goes on.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { CallMedia, type CallMediaEvents } from '../src/call-media.ts';
import { resolveWebRtc } from '../src/call-webrtc.ts';
import { closeWerift, countReceived, weriftWebRtc } from './helpers/werift.ts';
import { waitUntil } from './helpers/wait.ts';

const quiet: CallMediaEvents = {
  remoteStream() {},
  localStream() {},
  ice() {},
  error: (e) => console.error(e),
};
const webrtc = resolveWebRtc({ ...weriftWebRtc(), qualityIntervalMs: 0 });

async function pair(video = false) {
  const open = (polite: boolean) =>
    CallMedia.open({
      webrtc,
      iceServers: [],
      polite,
      video,
      devices: {},
      canSignal: () => true,
      events: quiet,
    });
  const caller = await open(false);
  const callee = await open(true);
  const link = (from: CallMedia, to: CallMedia) =>
    from.open({
      description: async (d) => void to.negotiator.remoteDescription(d),
      candidate: async (c) => void to.negotiator.remoteCandidate(c),
    });
  const offer = await caller.offer();
  link(caller, callee);
  const answer = await callee.answer(offer, []);
  link(callee, caller);
  await caller.negotiator.remoteDescription(answer);
  return { caller, callee, rx: { caller: countReceived(caller.pc), callee: countReceived(callee.pc) } };
}

const ufrag = (sdp: string | undefined) => /a=ice-ufrag:(\S+)/.exec(sdp ?? '')?.[1];

describe('call media between two werift peers (no server)', () => {
  after(closeWerift);

  test('audio packets arrive both ways', async () => {
    const { caller, callee, rx } = await pair();
    await waitUntil(() => rx.caller.audio > 5 && rx.callee.audio > 5, 10_000, 'audio both ways');
    assert.equal(caller.pc.iceConnectionState, 'connected');
    const q = await callee.quality();
    assert.ok(q.packetsReceived > 0, `stats count inbound packets: ${JSON.stringify(q)}`);
    caller.close();
    callee.close();
  });

  test('the callee turns its camera on and off: a new offer each time, video arrives then stops', async () => {
    const { caller, callee, rx } = await pair();
    await callee.setCamera(true);
    await waitUntil(() => rx.caller.video > 5, 10_000, 'video at the caller');
    assert.match(caller.pc.remoteDescription!.sdp, /m=video/);
    await callee.setCamera(false);
    await waitUntil(
      () => /a=(recvonly|inactive)/.test(callee.pc.localDescription!.sdp),
      5000,
      'video removed',
    );
    assert.equal(callee.localStream.getVideoTracks().length, 0);
    assert.ok(!callee.pc.getSenders().some((s) => s.track?.kind === 'video'), 'no video sender track');
    assert.equal(callee.cameraOn, false);
    caller.close();
    callee.close();
  });

  test('both sides turn the camera on at once (glare): each ends up receiving the other video', async () => {
    const { caller, callee, rx } = await pair();
    await Promise.all([caller.setCamera(true), callee.setCamera(true)]);
    await waitUntil(() => rx.caller.video > 5 && rx.callee.video > 5, 10_000, 'video both ways');
    assert.equal(caller.pc.signalingState, 'stable');
    assert.equal(callee.pc.signalingState, 'stable');
    caller.close();
    callee.close();
  });

  test('an ICE restart renews the ICE credentials and media keeps flowing', async () => {
    const { caller, callee, rx } = await pair();
    await waitUntil(() => rx.callee.audio > 5, 10_000, 'audio');
    const before = ufrag(caller.pc.localDescription?.sdp);
    caller.restartIce();
    await waitUntil(
      () => ufrag(caller.pc.localDescription?.sdp) !== before && caller.pc.signalingState === 'stable',
      5000,
      'restart answered',
    );
    const n = rx.callee.audio;
    await waitUntil(() => rx.callee.audio > n + 10, 10_000, 'audio after the restart');
    caller.close();
    callee.close();
  });
});
