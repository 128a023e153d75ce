/**
 * Lexical building blocks of the RFC 3261 section 25.1 grammar, shared by the header parsers.
 * Everything here works on a string and an index and never backtracks, so parsing stays linear
 * in the input whatever a peer sends.
 */
import { SipParseError } from './errors.ts';

const TOKEN = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") {
  TOKEN[c.charCodeAt(0)] = 1;
}

/** token characters (RFC 3261 section 25.1). */
export function isTokenChar(code: number): boolean {
  return TOKEN[code] === 1;
}

/** True when `s` is a non-empty token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/** Skips linear white space (SP, HTAB; folding was removed when the header was read). */
export function skipWs(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  return i;
}

/** Reads a token at `i` (after white space); returns [token, next index]. */
export function readToken(s: string, i: number, header: string): [string, number] {
  const start = i;
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  if (i === start) throw bad(header, `token expected at ${start}`);
  return [s.slice(start, i), i];
}

/**
 * Reads a quoted-string starting at the opening quote; returns the unquoted text (quoted-pairs
 * resolved) and the index after the closing quote. RFC 3261 section 25.1: quoted-pair excludes
 * CR and LF.
 */
export function readQuoted(s: string, i: number, header: string): [string, number] {
  i++;
  let out = '';
  let from = i;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 34) return [out + s.slice(from, i), i + 1];
    if (c === 92) {
      const n = s.charCodeAt(i + 1);
      if (i + 1 >= s.length || n === 10 || n === 13) break;
      out += s.slice(from, i) + s[i + 1];
      i += 2;
      from = i;
      continue;
    }
    if (c === 10 || c === 13) break;
    i++;
  }
  throw bad(header, 'unterminated quoted string');
}

/** Quotes `s` as a quoted-string, escaping `"` and `\`. */
export function quote(s: string): string {
  return '"' + s.replace(/["\\]/g, '\\$&') + '"';
}

/**
 * Splits a header value into its comma-separated values (RFC 3261 section 7.3.1), ignoring commas
 * inside quoted strings and angle brackets. Empty values are returned as '' so callers can
 * reject them.
 */
export function splitComma(s: string): string[] {
  if (s.indexOf(',') < 0) return [s];
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inQuote) {
      if (c === 92) i++;
      else if (c === 34) inQuote = false;
    } else if (c === 34) inQuote = true;
    else if (c === 60) inAngle = true;
    else if (c === 62) inAngle = false;
    else if (c === 44 && !inAngle) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(s.slice(start).trim());
  return out;
}

/** An ordered list of generic parameters (`;name=value`), names compared case-insensitively. */
export class Params {
  /** [name, value] pairs in order; a null value is a parameter without `=`. */
  readonly list: Array<[string, string | null]>;
  constructor(list: Array<[string, string | null]> = []) {
    this.list = list;
  }
  get(name: string): string | null | undefined {
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      const k = list[i]![0];
      if (k === name || (k.length === name.length && k.toLowerCase() === name)) return list[i]![1];
    }
    return undefined;
  }
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
  set(name: string, value: string | null): void {
    for (const p of this.list) {
      if (p[0].toLowerCase() === name) {
        p[1] = value;
        return;
      }
    }
    this.list.push([name, value]);
  }
  delete(name: string): void {
    const i = this.list.findIndex(([k]) => k.toLowerCase() === name);
    if (i >= 0) this.list.splice(i, 1);
  }
  clone(): Params {
    return new Params(this.list.map(([k, v]) => [k, v]));
  }
  /** Serializes as `;a=b;c`. Values are written as given (already quoted where needed). */
  toString(): string {
    let out = '';
    for (const [k, v] of this.list) out += v === null ? ';' + k : ';' + k + '=' + v;
    return out;
  }
}

/**
 * Reads `*( SEMI generic-param )` with LWS allowed around `;` and `=` (RFC 3261 section 25.1
 * SEMI and EQUAL). Values may be tokens, host names or quoted strings; quoted values keep their
 * quotes so serialization is faithful. Returns the index after the last parameter.
 */
export function readParams(s: string, i: number, params: Params, header: string): number {
  for (;;) {
    i = skipWs(s, i);
    if (i >= s.length || s.charCodeAt(i) !== 59) return i;
    i = skipWs(s, i + 1);
    const nameStart = i;
    while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
    if (i === nameStart) throw bad(header, `parameter name expected at ${nameStart}`);
    const name = s.slice(nameStart, i);
    i = skipWs(s, i);
    if (i < s.length && s.charCodeAt(i) === 61) {
      i = skipWs(s, i + 1);
      if (s.charCodeAt(i) === 34) {
        const start = i;
        i = readQuoted(s, i, header)[1];
        params.list.push([name, s.slice(start, i)]);
      } else {
        const start = i;
        while (i < s.length) {
          const c = s.charCodeAt(i);
          // token, plus ':' '[' ']' for IPv6 hosts in received/maddr (RFC 3261 section 25.1 gen-value)
          if (!(isTokenChar(c) || c === 58 || c === 91 || c === 93)) break;
          i++;
        }
        if (i === start) throw bad(header, `empty value for parameter ${name}`);
        params.list.push([name, s.slice(start, i)]);
      }
    } else {
      params.list.push([name, null]);
    }
  }
}

/** Shorthand for a 400-class header syntax error. */
export function bad(header: string, what: string): SipParseError {
  return new SipParseError('SIP_HEADER_VALUE', `${header}: ${what}`, { header });
}
