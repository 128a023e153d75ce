/**
 * Thumbnails, rendered: decode a PNG, JPEG, GIF (first frame) or WebP to RGBA, shrink it so its longer
 * side is at most `maxSide` (an area average, alpha-weighted so transparent pixels do not darken edges),
 * turn it upright by the JPEG's EXIF orientation, and encode it: PNG when it has transparency, else JPEG.
 *
 * Pure JavaScript decoders (jpeg-js, pngjs, omggif) and libwebp compiled to WebAssembly (shipped inside
 * the npm package, nothing downloaded): no native module. The pixel count is checked from the header
 * (image-probe.ts) before any pixel memory is allocated, so a decompression bomb costs nothing; jpeg-js
 * enforces the same bound on its own. This runs in a worker thread (thumbnail-worker.ts): decoding a
 * large photo takes CPU seconds that must not stall the event loop.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import jpegJs from 'jpeg-js';
import { PNG } from 'pngjs';
import { GifReader } from 'omggif';
import { probeImage, type ImageSize } from './image-probe.ts';

/** An image decoded to 8-bit RGBA, row by row. */
export interface Rgba extends ImageSize {
  data: Uint8Array;
}

export interface RenderLimits {
  /** Largest width x height decoded (larger: `image_too_large`). */
  maxPixels: number;
  /** Longest side of the thumbnail, px. */
  maxSide: number;
}

export interface Thumbnail extends ImageSize {
  contentType: 'image/png' | 'image/jpeg';
  bytes: Buffer;
}

/** A refusal with its error code (the catalogue's `image_too_large` or `image_unreadable`). */
export class RenderError extends Error {
  constructor(
    readonly code: 'image_too_large' | 'image_unreadable',
    message: string,
  ) {
    super(message);
  }
}

/** The upright size of an image (EXIF orientations 5-8 swap the sides), as shown to a user. */
export function displaySize(size: ImageSize, orientation: number): ImageSize {
  return orientation >= 5 && orientation <= 8 ? { width: size.height, height: size.width } : size;
}

/** The thumbnail's size for an image of `size`: the longer side at most `maxSide`, never enlarged. */
export function thumbnailSize(size: ImageSize, maxSide: number): ImageSize {
  const scale = Math.min(1, maxSide / Math.max(size.width, size.height));
  return {
    width: Math.max(1, Math.round(size.width * scale)),
    height: Math.max(1, Math.round(size.height * scale)),
  };
}

/** Renders the thumbnail of an image file's bytes, or throws a RenderError. */
export async function renderThumbnail(
  contentType: string,
  file: Buffer,
  limits: RenderLimits,
): Promise<Thumbnail> {
  const size = probeImage(contentType, file);
  if (!size) throw new RenderError('image_unreadable', 'the image header is not readable');
  const pixels = size.width * size.height;
  if (pixels > limits.maxPixels)
    throw new RenderError(
      'image_too_large',
      `the image is ${size.width} x ${size.height} pixels; thumbnails are made of images up to ${limits.maxPixels} pixels`,
    );
  let image: Rgba;
  try {
    image = await decode(contentType, file, limits.maxPixels);
  } catch (err) {
    if (err instanceof RenderError) throw err;
    throw new RenderError('image_unreadable', `the image could not be decoded: ${(err as Error).message}`);
  }
  const orientation = contentType === 'image/jpeg' ? exifOrientation(file) : 1;
  const target = thumbnailSize(size, limits.maxSide);
  const small = orient(shrink(image, target), orientation);
  return encode(small);
}

async function decode(contentType: string, file: Buffer, maxPixels: number): Promise<Rgba> {
  switch (contentType) {
    case 'image/png': {
      const png = PNG.sync.read(file);
      return { width: png.width, height: png.height, data: png.data };
    }
    case 'image/jpeg': {
      const img = jpegJs.decode(file, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: maxPixels / 1e6,
        // jpeg-js keeps the components and the RGBA output: a few bytes a pixel, plus its tables.
        maxMemoryUsageInMB: Math.ceil((maxPixels * 12) / 1048576) + 64,
      });
      return { width: img.width, height: img.height, data: img.data };
    }
    case 'image/gif': {
      const reader = new GifReader(file);
      const frame = reader.frameInfo(0);
      if (frame.x + frame.width > reader.width || frame.y + frame.height > reader.height)
        throw new RenderError('image_unreadable', 'the first frame lies outside the image');
      const data = new Uint8Array(reader.width * reader.height * 4);
      reader.decodeAndBlitFrameRGBA(0, data);
      return { width: reader.width, height: reader.height, data };
    }
    case 'image/webp': {
      const img = await (await webpDecoder())(file);
      if (img.width * img.height > maxPixels)
        throw new RenderError('image_too_large', 'the image is too large');
      return { width: img.width, height: img.height, data: new Uint8Array(img.data.buffer) };
    }
    default:
      throw new RenderError('image_unreadable', `no thumbnail for ${contentType}`);
  }
}

type WebpDecode = (file: Buffer) => Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
let webp: Promise<WebpDecode> | null = null;

/** libwebp's decoder, its WebAssembly compiled once from the file in the package (never fetched). */
function webpDecoder(): Promise<WebpDecode> {
  webp ??= (async () => {
    const mod = await import('@jsquash/webp/decode.js');
    const dir = dirname(createRequire(import.meta.url).resolve('@jsquash/webp/package.json'));
    await mod.init(await WebAssembly.compile(readFileSync(join(dir, 'codec/dec/webp_dec.wasm'))));
    return async (file: Buffer) => {
      const copy = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer;
      return mod.default(copy);
    };
  })();
  return webp;
}

/**
 * Area-average downscale: every source pixel adds to the one target pixel its centre falls in, colours
 * weighted by alpha. One pass over the source; the sums are a few floats per target pixel.
 */
export function shrink(src: Rgba, target: ImageSize): Rgba {
  const { width: tw, height: th } = target;
  if (tw === src.width && th === src.height) return src;
  const sums = new Float64Array(tw * th * 5);
  const xs = new Uint32Array(src.width);
  for (let x = 0; x < src.width; x++) xs[x] = Math.min(tw - 1, Math.floor(((x + 0.5) * tw) / src.width));
  const d = src.data;
  for (let y = 0; y < src.height; y++) {
    const row = Math.min(th - 1, Math.floor(((y + 0.5) * th) / src.height)) * tw;
    let i = y * src.width * 4;
    for (let x = 0; x < src.width; x++, i += 4) {
      const o = (row + xs[x]!) * 5;
      const a = d[i + 3]!;
      sums[o] += d[i]! * a;
      sums[o + 1] += d[i + 1]! * a;
      sums[o + 2] += d[i + 2]! * a;
      sums[o + 3] += a;
      sums[o + 4] += 1;
    }
  }
  const out = new Uint8Array(tw * th * 4);
  for (let p = 0; p < tw * th; p++) {
    const o = p * 5;
    const alpha = sums[o + 3]!;
    const n = sums[o + 4]! || 1;
    if (alpha > 0) {
      out[p * 4] = Math.round(sums[o]! / alpha);
      out[p * 4 + 1] = Math.round(sums[o + 1]! / alpha);
      out[p * 4 + 2] = Math.round(sums[o + 2]! / alpha);
    }
    out[p * 4 + 3] = Math.round(alpha / n);
  }
  return { width: tw, height: th, data: out };
}

/**
 * The EXIF orientation (TIFF tag 0x0112 in IFD0 of the APP1 "Exif" segment; CIPA DC-008 §4.6.4): 1 is
 * upright, 2-8 the mirrorings and quarter turns a camera records instead of rotating the pixels.
 */
export function exifOrientation(b: Buffer): number {
  let i = 2;
  while (i + 4 <= b.length && b[i] === 0xff) {
    const marker = b[i + 1]!;
    const length = b.readUInt16BE(i + 2);
    if (marker === 0xda || length < 2) return 1;
    if (marker === 0xe1 && b.subarray(i + 4, i + 10).toString('latin1') === 'Exif\0\0') {
      const t = i + 10;
      if (t + 8 > b.length) return 1;
      const le = b.subarray(t, t + 2).toString('latin1') === 'II';
      const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
      const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
      const ifd = t + u32(t + 4);
      if (ifd + 2 > b.length) return 1;
      const count = u16(ifd);
      for (let e = 0; e < count; e++) {
        const at = ifd + 2 + e * 12;
        if (at + 12 > b.length) return 1;
        if (u16(at) === 0x0112) {
          const v = u16(at + 8);
          return v >= 1 && v <= 8 ? v : 1;
        }
      }
      return 1;
    }
    i += 2 + length;
  }
  return 1;
}

/** Applies an EXIF orientation: the pixels as the camera meant them to be seen. */
export function orient(src: Rgba, orientation: number): Rgba {
  if (orientation <= 1 || orientation > 8) return src;
  const { width: w, height: h } = src;
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new Uint8Array(ow * oh * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let dx: number;
      let dy: number;
      switch (orientation) {
        case 2:
          [dx, dy] = [w - 1 - x, y];
          break;
        case 3:
          [dx, dy] = [w - 1 - x, h - 1 - y];
          break;
        case 4:
          [dx, dy] = [x, h - 1 - y];
          break;
        case 5:
          [dx, dy] = [y, x];
          break;
        case 6:
          [dx, dy] = [h - 1 - y, x];
          break;
        case 7:
          [dx, dy] = [h - 1 - y, w - 1 - x];
          break;
        default:
          [dx, dy] = [y, w - 1 - x]; // 8
      }
      out.set(src.data.subarray((y * w + x) * 4, (y * w + x) * 4 + 4), (dy * ow + dx) * 4);
    }
  return { width: ow, height: oh, data: out };
}

function encode(img: Rgba): Thumbnail {
  let opaque = true;
  for (let i = 3; i < img.data.length; i += 4)
    if (img.data[i]! < 255) {
      opaque = false;
      break;
    }
  if (opaque) {
    const jpeg = jpegJs.encode({ width: img.width, height: img.height, data: img.data }, 82);
    return { width: img.width, height: img.height, contentType: 'image/jpeg', bytes: Buffer.from(jpeg.data) };
  }
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return { width: img.width, height: img.height, contentType: 'image/png', bytes: PNG.sync.write(png) };
}
