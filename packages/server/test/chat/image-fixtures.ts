/**
 * Images made in the test (no binary fixtures needed): PNG, JPEG (with an EXIF orientation), GIF and
 * WebP from pixel functions, and decompression bombs whose headers promise more pixels than allowed.
 */
import { deflateSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import jpegJs from 'jpeg-js';
import { PNG } from 'pngjs';
import { GifWriter } from 'omggif';

export type Pixel = (x: number, y: number) => [number, number, number, number];

export function rgba(width: number, height: number, pixel: Pixel): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 4);
  return data;
}

export function pngOf(width: number, height: number, pixel: Pixel): Buffer {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba(width, height, pixel));
  return PNG.sync.write(png);
}

/** A JPEG; with `orientation`, an APP1 EXIF segment (big-endian TIFF, one IFD0 entry) after SOI. */
export function jpegOf(width: number, height: number, pixel: Pixel, orientation?: number): Buffer {
  const jpeg = Buffer.from(jpegJs.encode({ width, height, data: rgba(width, height, pixel) }, 90).data);
  if (!orientation) return jpeg;
  const tiff = Buffer.alloc(26);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4); // IFD0 offset
  tiff.writeUInt16BE(1, 8); // one entry
  tiff.writeUInt16BE(0x0112, 10); // Orientation
  tiff.writeUInt16BE(3, 12); // SHORT
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt16BE(orientation, 18);
  tiff.writeUInt32BE(0, 22); // no next IFD
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, payload, jpeg.subarray(2)]);
}

/** A GIF of up to four colours (palette index from `index`). */
export function gifOf(width: number, height: number, index: (x: number, y: number) => number): Buffer {
  const out = Buffer.alloc(width * height + 1024);
  const w = new GifWriter(out, width, height, { palette: [0xff0000, 0x0000ff, 0x00ff00, 0xffffff] });
  const pixels: number[] = [];
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels.push(index(x, y));
  w.addFrame(0, 0, width, height, pixels);
  return out.subarray(0, w.end());
}

/** A lossless WebP, through libwebp's encoder (WebAssembly shipped in @jsquash/webp). */
export async function webpOf(width: number, height: number, pixel: Pixel): Promise<Buffer> {
  const mod = await import('@jsquash/webp/encode.js');
  const dir = dirname(createRequire(import.meta.url).resolve('@jsquash/webp/package.json'));
  await mod.init(await WebAssembly.compile(readFileSync(join(dir, 'codec/enc/webp_enc.wasm'))));
  const data = new Uint8ClampedArray(rgba(width, height, pixel));
  const out = await mod.default({ data, width, height, colorSpace: 'srgb' }, { lossless: 1 });
  return Buffer.from(out);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'latin1'), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function crc32(b: Buffer): number {
  let c = ~0;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/**
 * A PNG whose header says `width` x `height` RGBA and whose IDAT is `rows` rows of zeros, deflated: a
 * bomb of a few kilobytes when `rows` is the full height, or a truncated (undecodable) image when not.
 */
export function pngBomb(width: number, height: number, rows = Math.min(height, 64)): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc((width * 4 + 1) * rows);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A JPEG that is only a start-of-frame header claiming `width` x `height`. */
export function jpegBomb(width: number, height: number): Buffer {
  const sof = Buffer.from([0xff, 0xc0, 0, 17, 8, 0, 0, 0, 0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, Buffer.from([0xff, 0xd9])]);
}
