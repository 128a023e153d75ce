/**
 * G.711 (ITU-T G.711; RTP payload types 0 PCMU and 8 PCMA, RFC 3551 section 4.5.14): 8-bit
 * logarithmic samples at 8 kHz. Both directions are table lookups: decoding is a 256-entry table,
 * encoding a 64 Ki-entry table indexed by the 16-bit sample (built once at load, 128 KiB in all),
 * so a 20 ms frame costs 160 array reads.
 */

const BIAS = 0x84;
const CLIP = 32635;

/** One µ-law byte from a 16-bit linear sample (G.711 section 2, the segment/mantissa form). */
function linearToUlaw(sample: number): number {
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

/** One A-law byte (even bits inverted with 0x55, as the standard transmits them). */
function linearToAlaw(sample: number): number {
  let s = sample;
  let sign = 0x80;
  if (s < 0) {
    sign = 0;
    s = -s - 1;
  }
  if (s > 32767) s = 32767;
  let byte: number;
  if (s < 256) {
    byte = s >> 4;
  } else {
    let exponent = 7;
    for (let mask = 0x4000; (s & mask) === 0 && exponent > 1; mask >>= 1) exponent--;
    byte = (exponent << 4) | ((s >> (exponent + 3)) & 0x0f);
  }
  return (byte | sign) ^ 0x55;
}

function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  if ((a & 0x80) === 0) magnitude = -magnitude;
  return magnitude;
}

function buildEncodeTable(fn: (s: number) => number): Uint8Array {
  const t = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = fn(i < 32768 ? i : i - 65536);
  return t;
}

function buildDecodeTable(fn: (b: number) => number): Int16Array {
  const t = new Int16Array(256);
  for (let i = 0; i < 256; i++) t[i] = fn(i);
  return t;
}

const ULAW_ENCODE = buildEncodeTable(linearToUlaw);
const ULAW_DECODE = buildDecodeTable(ulawToLinear);
const ALAW_ENCODE = buildEncodeTable(linearToAlaw);
const ALAW_DECODE = buildDecodeTable(alawToLinear);

export type G711Law = 'ulaw' | 'alaw';

/** Encodes 16-bit PCM (8 kHz) into G.711 bytes, one per sample. */
export function g711Encode(law: G711Law, pcm: Int16Array): Buffer {
  const table = law === 'ulaw' ? ULAW_ENCODE : ALAW_ENCODE;
  const out = Buffer.allocUnsafe(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = table[pcm[i]! & 0xffff]!;
  return out;
}

/** Decodes G.711 bytes into 16-bit PCM (8 kHz). */
export function g711Decode(law: G711Law, bytes: Uint8Array): Int16Array {
  const table = law === 'ulaw' ? ULAW_DECODE : ALAW_DECODE;
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]!]!;
  return out;
}
