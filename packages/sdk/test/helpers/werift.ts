/**
 * werift as the SDK's WebRTC stack in Node tests: peer connections on loopback only (host candidates on
 * 127.0.0.1, the bar's rule for tests), and a "microphone" that sends a generated Opus stream (a 20 ms
 * silence frame every 20 ms) and a "camera" track, so a call's media can be negotiated and counted.
 *
 * `received(call)` counts the RTP packets that arrived on a call's remote audio: the proof that media
 * flows end to end (werift decodes nothing, so counting packets is what a Node peer can observe).
 */
import { MediaStream, MediaStreamTrack, RtpHeader, RtpPacket, type RTCPeerConnection } from 'werift';
import type {
  MediaConstraints,
  PeerConnectionConfig,
  PeerConnectionConstructor,
  WebRtcOptions,
} from '@parley/sdk';
import { IceRestartingPeerConnection } from '../../../media/src/index.ts';

/** Opus TOC byte for a 20 ms SILK frame followed by the "silence" payload browsers send while muted. */
const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);

export interface WeriftOptions extends Omit<WebRtcOptions, 'RTCPeerConnection' | 'getUserMedia'> {
  /** Extra configuration for every peer connection (say, a TURN-only policy's filter). */
  peer?: Record<string, unknown>;
}

/** Every peer connection and source made, so a test can close what is left. */
const made: { pcs: RTCPeerConnection[]; timers: ReturnType<typeof setInterval>[] } = {
  pcs: [],
  timers: [],
};

export function weriftWebRtc(o: WeriftOptions = {}): WebRtcOptions {
  // packages/media's peer connection: werift's, with ICE restarts that check again as browsers do.
  class LoopbackPeerConnection extends IceRestartingPeerConnection {
    constructor(config: PeerConnectionConfig) {
      super({
        ...config,
        iceUseIpv6: false,
        iceInterfaceAddresses: { udp4: '127.0.0.1' },
        iceAdditionalHostAddresses: ['127.0.0.1'],
        // Only the loopback host candidate is reachable from the socket bound to 127.0.0.1.
        iceFilterCandidatePair: (pair) =>
          pair.localCandidate.host === '127.0.0.1' || pair.localCandidate.type === 'relay',
        ...o.peer,
      });
      made.pcs.push(this);
    }
  }
  const { peer: _peer, ...rest } = o;
  return {
    ...rest,
    RTCPeerConnection: LoopbackPeerConnection as unknown as PeerConnectionConstructor,
    getUserMedia: async (c: MediaConstraints) => {
      const tracks: MediaStreamTrack[] = [];
      if (c.audio) tracks.push(generated('audio'));
      if (c.video) tracks.push(generated('video'));
      return new MediaStream(tracks) as never;
    },
  };
}

/** A track that writes an RTP packet every 20 ms until stopped (audio: Opus silence; video: filler). */
function generated(kind: 'audio' | 'video'): MediaStreamTrack {
  const track = new MediaStreamTrack({ kind });
  let seq = Math.floor(Math.random() * 0xffff);
  let ts = Math.floor(Math.random() * 0xffffffff);
  const timer = setInterval(() => {
    if (track.stopped) return clearInterval(timer);
    seq = (seq + 1) & 0xffff;
    ts = (ts + 960) >>> 0;
    const header = new RtpHeader({ sequenceNumber: seq, timestamp: ts, marker: kind === 'video' });
    track.writeRtp(new RtpPacket(header, kind === 'audio' ? OPUS_SILENCE : Buffer.alloc(32)));
  }, 20);
  timer.unref();
  made.timers.push(timer);
  return track;
}

/** Counts RTP packets arriving on the remote tracks of a peer connection, per kind. */
export function countReceived(pc: unknown): { audio: number; video: number } {
  const counts = { audio: 0, video: 0 };
  const p = pc as RTCPeerConnection;
  const seen = new Set<MediaStreamTrack>();
  const watch = (t: MediaStreamTrack) => {
    if (seen.has(t)) return;
    seen.add(t);
    t.onReceiveRtp.subscribe(() => {
      counts[t.kind === 'video' ? 'video' : 'audio']++;
    });
  };
  for (const r of p.getReceivers()) if (r.track) watch(r.track);
  p.onTrack.subscribe(watch);
  return counts;
}

/** Closes every peer connection and source still open. */
export async function closeWerift(): Promise<void> {
  for (const t of made.timers.splice(0)) clearInterval(t);
  await Promise.all(made.pcs.splice(0).map((pc) => pc.close().catch(() => {})));
}
