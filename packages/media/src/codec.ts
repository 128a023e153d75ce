/**
 * Audio codecs behind one shape, so a session encodes its outgoing frames and decodes its incoming
 * packets without knowing which codec the offer/answer chose.
 *
 * Each codec works on 16-bit mono PCM at its own `sampleRate` in frames of {@link FRAME_MS}. The RTP
 * clock may differ from the PCM rate in general (G.722), so both are kept.
 */
import OpusScript from 'opusscript';
import { g711Decode, g711Encode } from './g711.ts';

/** Packetisation time of every stream the media plane sends (the WebRTC and SIP default, RFC 7587 section 4.2). */
export const FRAME_MS = 20;

/** The codecs the endpoint can negotiate, by their SDP encoding name (upper case). */
export type CodecName = 'OPUS' | 'PCMU' | 'PCMA';

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
}

export const CODECS: Record<CodecName, CodecInfo> = {
  OPUS: { name: 'OPUS', clockRate: 48000, sdpChannels: 2, sampleRate: 48000 },
  PCMU: { name: 'PCMU', clockRate: 8000, sampleRate: 8000, staticPayloadType: 0 },
  PCMA: { name: 'PCMA', clockRate: 8000, sampleRate: 8000, staticPayloadType: 8 },
};

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

export function createCodec(name: CodecName): AudioCodec {
  return name === 'OPUS' ? new OpusCodec() : new G711Codec(CODECS[name]);
}
