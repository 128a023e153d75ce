/**
 * The bridge: two media sessions joined, whatever carries each (a browser's WebRTC leg and a
 * phone's RTP/AVP leg, or two phones anchored through the server so each only ever talks to us,
 * NAT-safe with latching). It owns both: one {@link MediaBridge.close} ends both legs, and either
 * leg closing closes the other.
 *
 * Per direction, the cheapest path that works, chosen per packet (a renegotiation may change it):
 *
 *   leg X --packet--> same codec on Y?       --yes--> Y.forward(packet)            passthrough, on arrival
 *                     both G.711, other law? --yes--> 256-entry table, Y.forward   on arrival
 *                     otherwise (Opus)       -------> decode -> LiveSource -> Y's pacer -> encode
 *                     G.722 on either side   -------> refused: `not_transcodable` (never decoded)
 *
 * On the first two paths Y's own pacer is off: the packet leaves as soon as it arrived, with its
 * timing (and its loss, its jitter) as the sender made it; nothing waits for a 20 ms tick. The
 * third path is the only one with the pacer in it, and the added delay of a queue (bounded).
 * G.722 (RFC 3551: 16 kHz audio on an 8000 RTP clock) only ever takes the first path: two legs that
 * both negotiated it; joining a G.722 leg to one without it throws a MediaError `not_transcodable`
 * (the caller answers 488 or picks G.711), and a renegotiation that leads there leaves that
 * direction `refused` (nothing crosses) rather than decoding it.
 *
 * DTMF: RFC 4733 event packets are forwarded like audio on the first two paths when Y negotiated
 * telephone-event; otherwise the digit heard on X (its `'dtmf'` event) is sent again by Y. Either
 * way the bridge reports `'dtmf'` with the leg it came from, for the signalling side (a browser
 * never hands received events to the page, so a phone's digits go to it as signalling events).
 */
import { TypedEmitter } from '@parley/sip';
import { canTranscode, type CodecName } from './codec.ts';
import { MediaError } from './errors.ts';
import type { DtmfEvent } from './dtmf.ts';
import { g711Decode, g711Encode } from './g711.ts';
import { LiveSource } from './live-source.ts';
import type { Playback } from './audio-out.ts';
import type { AudioSource } from './source.ts';
import type { AudioFrame, MediaCloseReason, MediaPacket, MediaSession, PacketPort } from './session.ts';

/** A session the bridge can join: the shared shape plus packet forwarding. */
export type BridgeLeg = MediaSession & PacketPort;

export type BridgeSide = 'a' | 'b';

/** How packets cross in one direction (for stats and tests). */
export type BridgePath = 'passthrough' | 'g711' | 'transcode' | 'refused' | 'none';

/** Why the bridge ended: `close()` by its owner, or one leg closing (and how). */
export interface BridgeEnd {
  readonly by: 'owner' | BridgeSide;
  readonly reason: MediaCloseReason;
}

export type MediaBridgeEvents = {
  /** A digit heard on `from`'s far end (already relayed to the other leg). */
  dtmf: [from: BridgeSide, event: DtmfEvent];
  /** A leg's media timeout (the owner decides whether the call ends). */
  timeout: [side: BridgeSide];
  close: [BridgeEnd];
};

export interface BridgeStats {
  /** Packets forwarded as they came, per direction. */
  readonly forwarded: { readonly aToB: number; readonly bToA: number };
  /** Packets converted between G.711 laws on arrival. */
  readonly converted: { readonly aToB: number; readonly bToA: number };
  /** Frames taken through PCM and the other leg's pacer. */
  readonly transcoded: { readonly aToB: number; readonly bToA: number };
  readonly digits: number;
}

function lawTable(from: 'ulaw' | 'alaw', to: 'ulaw' | 'alaw'): Uint8Array {
  const all = new Uint8Array(256).map((_, i) => i);
  return new Uint8Array(g711Encode(to, g711Decode(from, all)));
}

/** G.711 law conversion tables (ITU-T G.711 table 3 style: through the linear value). */
const ULAW_TO_ALAW = lawTable('ulaw', 'alaw');
const ALAW_TO_ULAW = lawTable('alaw', 'ulaw');

function isG711(codec: CodecName | undefined): codec is 'PCMU' | 'PCMA' {
  return codec === 'PCMU' || codec === 'PCMA';
}

/** How packets from `from` reach `to`, given the codecs each negotiated. */
function pathOf(from: BridgeLeg, to: BridgeLeg): BridgePath {
  const codec = from.codec.name;
  if (to.sendCodecs.includes(codec)) return 'passthrough';
  if (isG711(codec) && to.sendCodecs.some(isG711)) return 'g711';
  if (to.sendCodecs.length === 0) return 'none';
  // Transcoding needs both codecs here: G.722 is passed through only.
  if (!canTranscode(codec) || !canTranscode(to.codec.name)) return 'refused';
  return 'transcode';
}

/** One direction: packets from `from` go to `to`. */
class Direction {
  forwarded = 0;
  converted = 0;
  transcoded = 0;
  private live: { source: LiveSource; playback: Playback } | undefined;
  private readonly onAudio = (frame: AudioFrame): void => {
    if (this.announcing) return;
    if (!this.live) {
      const source = new LiveSource(frame.sampleRate);
      this.live = { source, playback: this.to.output.play(source) };
    }
    this.transcoded++;
    this.live.source.push(frame.samples);
  };
  private listening = false;
  /** Playing an announcement to `to`: nothing of `from` crosses meanwhile. */
  private announcing: Playback | undefined;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly from: BridgeLeg,
    private readonly to: BridgeLeg,
    private readonly onDigit: (e: DtmfEvent) => void,
  ) {
    const onPacket = (p: MediaPacket) => this.onPacket(p);
    const onDtmf = (e: DtmfEvent) => this.onDtmf(e);
    from.on('packet', onPacket);
    from.on('dtmf', onDtmf);
    this.unsubscribe.push(
      () => from.off('packet', onPacket),
      () => from.off('dtmf', onDtmf),
      () => this.decoding(false),
    );
    this.update();
  }

  /** The path for `from`'s codec now; the receiving leg's pacer is on only for transcoding. */
  get path(): BridgePath {
    return pathOf(this.from, this.to);
  }

  /** Re-reads the legs' codecs (after a renegotiation) and sets the receiving leg's pacer. */
  update(): void {
    if (this.announcing) return; // re-chosen when the announcement ends
    const path = this.path;
    // The receiving leg paces only what it encodes itself (refused: nothing crosses, nothing paced).
    this.to.setPaced(path === 'transcode' || path === 'none');
    // Decoding costs; only the transcoding path needs PCM.
    this.decoding(path === 'transcode');
    if (path !== 'transcode' && this.live) {
      this.live.playback.stop();
      this.live.source.close();
      this.live = undefined;
    }
  }

  /**
   * Plays `source` to `to` in place of what `from` sends (dropped meanwhile), through `to`'s own
   * pacer; when it ends the direction's path is chosen again. A second announcement replaces the first.
   */
  announce(source: AudioSource): Playback {
    this.announcing?.stop();
    if (this.live) {
      this.live.playback.stop();
      this.live.source.close();
      this.live = undefined;
    }
    this.decoding(false);
    this.to.setPaced(true);
    const playback = this.to.output.play(source);
    this.announcing = playback;
    void playback.done.then(() => {
      if (this.announcing !== playback) return;
      this.announcing = undefined;
      if (this.to.state !== 'closed') this.update();
    });
    return playback;
  }

  private onPacket(p: MediaPacket): void {
    if (this.announcing) return;
    if (p.kind === 'event') {
      if (this.to.sendsEvents && this.path !== 'transcode') this.to.forward(p);
      return;
    }
    if (this.to.sendCodecs.includes(p.codec!)) {
      this.forwarded++;
      this.to.forward(p);
      return;
    }
    if (!isG711(p.codec)) return; // Opus: the 'audio' path below
    const target = this.to.sendCodecs.find(isG711);
    if (!target) return;
    const table = p.codec === 'PCMU' ? ULAW_TO_ALAW : ALAW_TO_ULAW;
    const payload = new Uint8Array(p.payload.length);
    for (let i = 0; i < payload.length; i++) payload[i] = table[p.payload[i]!]!;
    this.converted++;
    this.to.forward({ ...p, codec: target, payload });
  }

  private onDtmf(e: DtmfEvent): void {
    this.onDigit(e);
    // Event packets went through already on the fast paths; otherwise the other leg plays the digit.
    const forwarded = this.to.sendsEvents && this.path !== 'transcode';
    if (!forwarded && this.to.sendsEvents)
      this.to.sendDtmf(e.digit, { durationMs: Math.max(40, e.durationMs) }).catch(() => {});
  }

  private decoding(on: boolean): void {
    if (on === this.listening) return;
    this.listening = on;
    if (on) this.from.on('audio', this.onAudio);
    else this.from.off('audio', this.onAudio);
  }

  stop(): void {
    this.announcing?.stop();
    this.announcing = undefined;
    for (const u of this.unsubscribe.splice(0)) u();
    this.live?.playback.stop();
    this.live?.source.close();
    this.live = undefined;
  }
}

export class MediaBridge extends TypedEmitter<MediaBridgeEvents> {
  private readonly aToB: Direction;
  private readonly bToA: Direction;
  private digits = 0;
  private closing: Promise<void> | undefined;

  /**
   * Joins `a` and `b`; from here on the bridge owns both. Throws `not_transcodable` (and owns
   * neither) when G.722 on one leg would have to be transcoded for the other.
   */
  constructor(
    readonly a: BridgeLeg,
    readonly b: BridgeLeg,
  ) {
    super();
    if (pathOf(a, b) === 'refused' || pathOf(b, a) === 'refused')
      throw new MediaError(
        'not_transcodable',
        `cannot bridge ${a.codec.name} to ${b.codec.name}: G.722 is passed through only, ` +
          'so both legs must negotiate it',
      );
    const digit = (from: BridgeSide) => (e: DtmfEvent) => {
      this.digits++;
      this.emit('dtmf', from, e);
    };
    this.aToB = new Direction(a, b, digit('a'));
    this.bToA = new Direction(b, a, digit('b'));
    a.once('close', (reason) => void this.end({ by: 'a', reason }));
    b.once('close', (reason) => void this.end({ by: 'b', reason }));
    a.on('timeout', () => this.emit('timeout', 'a'));
    b.on('timeout', () => this.emit('timeout', 'b'));
    if (a.state === 'closed') void this.end({ by: 'a', reason: 'closed' });
    else if (b.state === 'closed') void this.end({ by: 'b', reason: 'closed' });
  }

  /** The path packets take each way now. */
  get paths(): { readonly aToB: BridgePath; readonly bToA: BridgePath } {
    return { aToB: this.aToB.path, bToA: this.bToA.path };
  }

  get stats(): BridgeStats {
    return {
      forwarded: { aToB: this.aToB.forwarded, bToA: this.bToA.forwarded },
      converted: { aToB: this.aToB.converted, bToA: this.bToA.converted },
      transcoded: { aToB: this.aToB.transcoded, bToA: this.bToA.transcoded },
      digits: this.digits,
    };
  }

  /**
   * Plays `source` to the leg on `side` (a warning tone before a call is cut, an announcement) in place
   * of what the other leg sends; the other direction is untouched. Media cross again when it ends.
   */
  announce(side: BridgeSide, source: AudioSource): Playback {
    return (side === 'a' ? this.bToA : this.aToB).announce(source);
  }

  /** After a leg renegotiated (a re-INVITE, a codec change): re-choose the paths. */
  update(): void {
    this.aToB.update();
    this.bToA.update();
  }

  /** Ends both legs; idempotent; resolves when both sessions are closed. */
  close(): Promise<void> {
    return this.end({ by: 'owner', reason: 'closed' });
  }

  private end(how: BridgeEnd): Promise<void> {
    this.closing ??= (async () => {
      this.aToB.stop();
      this.bToA.stop();
      await Promise.all([
        this.a.close(how.by === 'a' ? how.reason : 'closed'),
        this.b.close(how.by === 'b' ? how.reason : 'closed'),
      ]);
      this.emit('close', how);
      this.removeAllListeners();
    })();
    return this.closing;
  }
}

/** Joins two sessions (see {@link MediaBridge}). */
export function bridge(a: BridgeLeg, b: BridgeLeg): MediaBridge {
  return new MediaBridge(a, b);
}
