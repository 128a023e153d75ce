/**
 * The dimensions of an image from its header, without decoding it: what lets the thumbnailer refuse a
 * decompression bomb (a small file that would expand to gigabytes of pixels) before allocating a byte of
 * pixel memory. PNG, GIF, JPEG and WebP, the types `sniff` serves as images.
 */

/** Width and height in pixels. */
export interface ImageSize {
  width: number;
  height: number;
}

/** How many bytes of the file's start `probeImage` may need (a JPEG's frame header follows its EXIF). */
export const PROBE_BYTES = 256 * 1024;

/** The size of a PNG, GIF, JPEG or WebP from its first bytes; null when the header is not readable. */
export function probeImage(contentType: string, b: Buffer): ImageSize | null {
  const size = (() => {
    switch (contentType) {
      case 'image/png':
        return png(b);
      case 'image/gif':
        return gif(b);
      case 'image/jpeg':
        return jpeg(b);
      case 'image/webp':
        return webp(b);
      default:
        return null;
    }
  })();
  return size && size.width > 0 && size.height > 0 ? size : null;
}

/** PNG: the IHDR chunk comes first (PNG spec §11.2.2); width and height are 4-byte big-endian. */
function png(b: Buffer): ImageSize | null {
  if (b.length < 24 || b.subarray(12, 16).toString('latin1') !== 'IHDR') return null;
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/** GIF: the logical screen descriptor (GIF89a §18) holds the canvas size, 2-byte little-endian. */
function gif(b: Buffer): ImageSize | null {
  if (b.length < 10) return null;
  return { width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
}

/**
 * JPEG: walk the marker segments (ITU T.81 §B.1.1) to the first start-of-frame (SOF0..SOF15 but DHT,
 * JPG and DAC), whose payload is precision, height, width.
 */
function jpeg(b: Buffer): ImageSize | null {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2; // no length
      continue;
    }
    const length = b.readUInt16BE(i + 2);
    if (length < 2) return null;
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (sof) {
      if (i + 9 > b.length) return null;
      return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    }
    if (marker === 0xda || marker === 0xd9) return null; // scan data before any frame header
    i += 2 + length;
  }
  return null;
}

/** WebP (RFC 9649 §2.5-2.7): a lossy VP8, lossless VP8L or extended VP8X first chunk. */
function webp(b: Buffer): ImageSize | null {
  if (b.length < 30) return null;
  const chunk = b.subarray(12, 16).toString('latin1');
  if (chunk === 'VP8X') return { width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3) };
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) return null;
    const bits = b.readUInt32LE(21);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) };
  }
  if (chunk === 'VP8 ') {
    // A key frame: 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null;
    return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
  }
  return null;
}
