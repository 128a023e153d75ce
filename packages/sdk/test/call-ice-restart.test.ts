/**
 * A network change without a socket loss: the call restarts ICE itself from the peer connection's
 * `iceconnectionstatechange`: at once on `failed`, and on `disconnected` only if it lasts
 * `iceDisconnectedMs` (a blip that heals by itself sends nothing). One layer, with a scripted
 * RTCPeerConnection (the werift and server tests cover the restart's effect end to end).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallMedia } from '../src/call-media.ts';
import { resolveWebRtc, type PeerConnectionLike } from '../src/call-webrtc.ts';
import { waitUntil } from './helpers/wait.ts';

class ScriptedPeerConnection {
  signalingState = 'stable';
  iceConnectionState = 'connected';
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = { type: 'answer', sdp: 'v=0\r\n' };
  offers: Array<{ iceRestart?: boolean } | undefined> = [];
  onicecandidate = null;
  ontrack = null;
  oniceconnectionstatechange: (() => void) | null = null;
  async createOffer(o?: { iceRestart?: boolean }) {
    this.offers.push(o);
    return { type: 'offer', sdp: `v=0\r\na=ice-ufrag:u${this.offers.length}\r\n` };
  }
  async createAnswer() {
    return { type: 'answer', sdp: 'v=0\r\n' };
  }
  async setLocalDescription(d: { type: string; sdp: string }) {
    this.localDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
  }
  async setRemoteDescription() {}
  async addIceCandidate() {}
  addTrack() {
    return { track: null, replaceTrack: async () => {} };
  }
  removeTrack() {}
  getSenders() {
    return [];
  }
  getTransceivers() {
    return [];
  }
  async getStats() {
    return new Map();
  }
  close() {}
  /** The network changes. */
  ice(state: string) {
    this.iceConnectionState = state;
    this.oniceconnectionstatechange?.();
  }
}

async function media() {
  let pc!: ScriptedPeerConnection;
  const webrtc = resolveWebRtc({
    RTCPeerConnection: class {
      constructor() {
        pc = new ScriptedPeerConnection();
        return pc as unknown as PeerConnectionLike;
      }
    } as never,
    getUserMedia: async () => ({
      getTracks: () => [],
      getAudioTracks: () => [],
      getVideoTracks: () => [],
      addTrack() {},
      removeTrack() {},
    }),
    iceDisconnectedMs: 40,
  });
  const m = await CallMedia.open({
    webrtc,
    iceServers: [],
    polite: false,
    video: false,
    devices: {},
    canSignal: () => true,
    events: { remoteStream() {}, localStream() {}, ice() {}, error: (e) => assert.fail(String(e)) },
  });
  const sent: string[] = [];
  m.open({ description: async (d) => void sent.push(d.type), candidate: async () => {} });
  return { m, pc, sent };
}

test('ICE failed: a new offer with iceRestart goes at once', async () => {
  const { m, pc, sent } = await media();
  pc.ice('failed');
  await waitUntil(() => sent.length === 1, 1000, 'the restart offer');
  assert.deepEqual(pc.offers, [{ iceRestart: true }]);
  assert.deepEqual(sent, ['offer']);
  m.close();
});

test('ICE disconnected for longer than iceDisconnectedMs restarts; a blip that heals does not', async () => {
  const { m, pc, sent } = await media();
  pc.ice('disconnected');
  pc.ice('connected'); // healed at once
  pc.ice('disconnected');
  await waitUntil(() => sent.length === 1, 1000, 'the restart offer');
  assert.deepEqual(pc.offers, [{ iceRestart: true }], 'one restart, for the lasting disconnection');
  m.close();
});
