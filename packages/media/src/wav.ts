/**
 * WAV files (RIFF WAVE with a PCM `fmt ` chunk): prompts in, recordings out. The media plane works
 * in 16-bit mono, so that is what it writes; it reads 16-bit PCM at any rate, mono or stereo
 * (stereo is averaged down), including WAVE_FORMAT_EXTENSIBLE files whose sub-format is PCM.
 * Anything else (8-bit, float, compressed, truncated) is refused with `unsupported_wav`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { MediaError } from './errors.ts';

export interface Pcm {
  readonly samples: Int16Array;
  readonly sampleRate: number;
}

const PCM = 1;
const EXTENSIBLE = 0xfffe;

function fail(message: string): never {
  throw new MediaError('unsupported_wav', message);
}

/** Parses a WAV file's bytes. */
export function parseWav(bytes: Uint8Array): Pcm {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE')
    fail('not a RIFF WAVE file');
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('latin1', offset, offset + 4);
    let size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > buf.length) fail('truncated fmt chunk');
      let format = buf.readUInt16LE(body);
      if (format === EXTENSIBLE && size >= 40) format = buf.readUInt16LE(body + 24);
      fmt = {
        format,
        channels: buf.readUInt16LE(body + 2),
        rate: buf.readUInt32LE(body + 4),
        bits: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) fail('data chunk before fmt chunk');
      if (fmt.format !== PCM) fail(`WAV format ${fmt.format} is not PCM`);
      if (fmt.bits !== 16) fail(`${fmt.bits}-bit samples (16-bit PCM only)`);
      if (fmt.channels !== 1 && fmt.channels !== 2) fail(`${fmt.channels} channels (mono or stereo only)`);
      if (fmt.rate < 8000 || fmt.rate > 48000) fail(`sample rate ${fmt.rate} (8,000 to 48,000 Hz)`);
      // Streaming writers (espeak-ng to a pipe) leave 0 or 0xFFFFFFFF: take what is there.
      if (size === 0 || size === 0xffffffff || body + size > buf.length) size = buf.length - body;
      const frames = Math.floor(size / (2 * fmt.channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        if (fmt.channels === 1) samples[i] = buf.readInt16LE(body + i * 2);
        else samples[i] = (buf.readInt16LE(body + i * 4) + buf.readInt16LE(body + i * 4 + 2)) >> 1;
      }
      return { samples, sampleRate: fmt.rate };
    }
    offset = body + size + (size & 1); // chunks are padded to even length
  }
  return fail(fmt ? 'no data chunk' : 'no fmt chunk');
}

/** Serialises 16-bit mono PCM as a WAV file. */
export function encodeWav(pcm: Pcm): Buffer {
  const dataBytes = pcm.samples.length * 2;
  const out = Buffer.alloc(44 + dataBytes);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVE', 8, 'latin1');
  out.write('fmt ', 12, 'latin1');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(PCM, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(pcm.sampleRate, 24);
  out.writeUInt32LE(pcm.sampleRate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < pcm.samples.length; i++) out.writeInt16LE(pcm.samples[i]!, 44 + i * 2);
  return out;
}

export async function readWav(path: string): Promise<Pcm> {
  return parseWav(await readFile(path));
}

export async function writeWav(path: string, pcm: Pcm): Promise<void> {
  await writeFile(path, encodeWav(pcm));
}
