/**
 * Bencode (BitTorrent BEP 3), the encoding of rtpengine's `ng` control protocol: integers `i42e`,
 * byte strings `4:spam`, lists `l...e` and dictionaries `d...e` with keys sorted as raw bytes.
 * Strings decode to JS strings (UTF-8; rtpengine's replies are SDP and ASCII keys), which is all the
 * `ng` protocol carries. Written here rather than taken from npm: forty lines, no dependency to vet.
 */
import { NgError } from './errors.ts';

export type BencodeValue = string | number | BencodeValue[] | { [key: string]: BencodeValue };

/** Encodes a value; `undefined` members of a dictionary are left out, booleans are not bencode. */
export function bencode(value: unknown): Buffer {
  const parts: Buffer[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      const b = Buffer.from(v, 'utf8');
      parts.push(Buffer.from(`${b.length}:`), b);
    } else if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw new NgError('invalid_bencode', `bencode has no fractions: ${v}`);
      parts.push(Buffer.from(`i${v}e`));
    } else if (Buffer.isBuffer(v)) {
      parts.push(Buffer.from(`${v.length}:`), v);
    } else if (Array.isArray(v)) {
      parts.push(Buffer.from('l'));
      v.forEach(walk);
      parts.push(Buffer.from('e'));
    } else if (v !== null && typeof v === 'object') {
      parts.push(Buffer.from('d'));
      const entries = Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const [k, x] of entries) {
        walk(k);
        walk(x);
      }
      parts.push(Buffer.from('e'));
    } else {
      throw new NgError('invalid_bencode', `cannot bencode ${typeof v}`);
    }
  };
  walk(value);
  return Buffer.concat(parts);
}

/** Decodes one value filling the whole buffer; a coded `invalid_bencode` error on anything else. */
export function bdecode(buf: Buffer): BencodeValue {
  let i = 0;
  const fail = (why: string): never => {
    throw new NgError('invalid_bencode', `bad bencode at byte ${i}: ${why}`);
  };
  const digitsUntil = (end: number): number => {
    const stop = buf.indexOf(end, i);
    if (stop < 0) fail('unterminated number');
    const text = buf.toString('ascii', i, stop);
    if (!/^-?\d+$/.test(text)) fail(`not a number: ${JSON.stringify(text)}`);
    i = stop + 1;
    return Number(text);
  };
  const value = (depth: number): BencodeValue => {
    if (depth > 64) fail('nested too deeply');
    const c = buf[i];
    if (c === undefined) return fail('truncated');
    if (c === 0x69 /* i */) {
      i++;
      return digitsUntil(0x65);
    }
    if (c === 0x6c /* l */) {
      i++;
      const list: BencodeValue[] = [];
      while (buf[i] !== 0x65) {
        if (i >= buf.length) fail('unterminated list');
        list.push(value(depth + 1));
      }
      i++;
      return list;
    }
    if (c === 0x64 /* d */) {
      i++;
      const dict: Record<string, BencodeValue> = {};
      while (buf[i] !== 0x65) {
        if (i >= buf.length) fail('unterminated dictionary');
        const key = value(depth + 1);
        if (typeof key !== 'string') fail('dictionary key is not a string');
        dict[key as string] = value(depth + 1);
      }
      i++;
      return dict;
    }
    if (c >= 0x30 && c <= 0x39) {
      const len = digitsUntil(0x3a);
      if (i + len > buf.length) fail('string runs past the end');
      const s = buf.toString('utf8', i, i + len);
      i += len;
      return s;
    }
    return fail(`unexpected byte 0x${c.toString(16)}`);
  };
  const v = value(0);
  if (i !== buf.length) fail('trailing bytes');
  return v;
}
