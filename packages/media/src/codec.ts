/**
 * Audio codecs behind one shape, so a session encodes its outgoing frames and decodes its incoming
 * packets without knowing which codec the offer/answer chose.
 *
 * Each codec works on 16-bit mono PCM at its own `sampleRate` in frames of {@link FRAME_MS}. The RTP
 * clock may differ from the PCM rate in general (G.722), so both are kept.
 */
import OpusScript from 'opusscript';
import { MediaError } from './errors.ts';
import { g711Decode, g711Encode } from './g711.ts';

/** Packetisation time of every stream the media plane sends (the WebRTC and SIP default, RFC 7587 section 4.2). */
export const FRAME_MS = 20;

/** The codecs the endpoint can negotiate, by their SDP encoding name (upper case). */
export type CodecName = 'OPUS' | 'PCMU' | 'PCMA' | 'G722';

export interface CodecInfo {
  readonly name: CodecName;
  /** RTP timestamp rate (SDP a=rtpmap clock rate). */
  readonly clockRate: number;
  /** Channels in a=rtpmap (Opus always says 2, RFC 7587 section 7; we send and decode mono). */
  readonly sdpChannels?: number;
  /** The PCM rate frames are exchanged in. */
  readonly sampleRate: number;
  /** Static payload type (RFC 3551 table 4), or undefined for a dynamic one. */
  readonly staticPayloadType?: number;
  /** Only ever passed through between two legs that both negotiated it: never decoded or encoded. */
  readonly passthroughOnly?: boolean;
}

export const CODECS: Record<CodecName, CodecInfo> = {
  OPUS: { name: 'OPUS', clockRate: 48000, sdpChannels: 2, sampleRate: 48000 },
  PCMU: { name: 'PCMU', clockRate: 8000, sampleRate: 8000, staticPayloadType: 0 },
  PCMA: { name: 'PCMA', clockRate: 8000, sampleRate: 8000, staticPayloadType: 8 },
  /**
   * G.722 (ITU-T, 64 kbit/s wideband): sampled at 16 kHz, but its RTP clock and SDP rate are 8000
   * (RFC 3551 section 4.5.2, an error kept for compatibility), so `G722/8000` in a=rtpmap and 160
   * timestamp units per 20 ms. No codec for it here: passthrough between legs that both chose it.
   */
  G722: {
    name: 'G722',
    clockRate: 8000,
    sampleRate: 16000,
    staticPayloadType: 9,
    passthroughOnly: true,
  },
};

/** Whether frames in `name` can be made or read here (false: passthrough only, G.722). */
export function canTranscode(name: CodecName): boolean {
  return !CODECS[name].passthroughOnly;
}

/** A codec instance: stateful (Opus keeps encoder and decoder state), so one per stream. */
export interface AudioCodec {
  readonly info: CodecInfo;
  /** PCM samples in one {@link FRAME_MS} frame. */
  readonly frameSamples: number;
  /** RTP timestamp units per frame. */
  readonly frameTicks: number;
  /** Encodes exactly `frameSamples` samples into one RTP payload. */
  encode(pcm: Int16Array): Buffer;
  /** Decodes one RTP payload; a corrupt payload gives undefined (counted by the caller as loss). */
  decode(payload: Uint8Array): Int16Array | undefined;
  /** Frees native (wasm) state; idempotent. */
  close(): void;
}

class G711Codec implements AudioCodec {
  readonly frameSamples: number;
  readonly frameTicks: number;
  constructor(readonly info: CodecInfo) {
    this.frameSamples = (info.sampleRate * FRAME_MS) / 1000;
    this.frameTicks = this.frameSamples;
  }
  private get law() {
    return this.info.name === 'PCMU' ? 'ulaw' : 'alaw';
  }
  encode(pcm: Int16Array): Buffer {
    return g711Encode(this.law, pcm);
  }
  decode(payload: Uint8Array): Int16Array {
    return g711Decode(this.law, payload);
  }
  close(): void {}
}

/** libopus's OPUS_SET_COMPLEXITY request (opus_defines.h). */
const OPUS_SET_COMPLEXITY = 4010;
/**
 * Encoder complexity 3 of 0-10: measured here (wasm, loaded machine) at about 240 us per 20 ms frame
 * against 470 us at libopus's default 10; speech prompts and echoes do not need the difference.
 */
const OPUS_COMPLEXITY = 3;

/**
 * Opus (RFC 6716) through opusscript, libopus compiled to wasm: no native build, so it installs
 * wherever npm does. Mono at 48 kHz, VoIP mode; the decoder downmixes a stereo sender.
 */
class OpusCodec implements AudioCodec {
  readonly info = CODECS.OPUS;
  readonly frameSamples = (48000 * FRAME_MS) / 1000;
  readonly frameTicks = this.frameSamples;
  private opus: OpusScript | undefined = new OpusScript(48000, 1, OpusScript.Application.VOIP);

  constructor() {
    this.opus!.encoderCTL(OPUS_SET_COMPLEXITY, OPUS_COMPLEXITY);
  }

  encode(pcm: Int16Array): Buffer {
    if (!this.opus) throw new Error('codec closed');
    return this.opus.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), pcm.length);
  }

  decode(payload: Uint8Array): Int16Array | undefined {
    if (!this.opus) return undefined;
    try {
      const out = this.opus.decode(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
      // Copy out of the wasm heap view into an aligned array of our own.
      const pcm = new Int16Array(out.length >> 1);
      for (let i = 0; i < pcm.length; i++) pcm[i] = out.readInt16LE(i * 2);
      return pcm;
    } catch {
      return undefined;
    }
  }

  close(): void {
    this.opus?.delete();
    this.opus = undefined;
  }
}

/** A codec instance; a passthrough-only codec (G.722) is refused with `not_transcodable`. */
export function createCodec(name: CodecName): AudioCodec {
  if (!canTranscode(name))
    throw new MediaError('not_transcodable', `${name} is passed through only, never decoded or encoded`);
  return name === 'OPUS' ? new OpusCodec() : new G711Codec(CODECS[name]);
}
