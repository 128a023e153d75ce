/**
 * The SIP message model (RFC 3261 section 7): requests, responses, header fields and body.
 *
 * Header fields are kept in order as text. The headers every element needs (Via, From, To, Call-ID,
 * CSeq, Max-Forwards, Contact, Route, Record-Route) are parsed lazily on first access and cached;
 * all others stay text until an application asks, which is what makes parsing cheap.
 * Parsed values are snapshots: to change a header, build or modify a value and pass it to
 * {@link SipMessage.set}.
 */
import { NameAddr, parseNameAddr } from './address.ts';
import { SipParseError } from './errors.ts';
import { displayHeaderName, LIST_HEADERS, normalizeHeaderName } from './header-names.ts';
import { bad, isToken, skipWs, splitComma } from './lex.ts';
import { parseUri, type Uri } from './uri.ts';
import { parseVia, type Via } from './via.ts';

/** One header field line: normalized name, name as received, value (unfolded, trimmed). */
export interface HeaderField {
  name: string;
  rawName: string;
  value: string;
}

/** The CSeq header value (RFC 3261 section 20.16). */
export interface CSeq {
  seq: number;
  method: string;
}

/** Anything with a SIP text form: a string, or a parsed value such as NameAddr or Via. */
export type HeaderValue = string | number | { toString(): string };

const MAX_CSEQ = 4294967295;

/** Parses `1*DIGIT LWS Method` with seq <= 2**32-1 (RFC 3261 section 8.1.1.5, RFC 4475 3.1.2.4). */
export function parseCSeq(s: string): CSeq {
  let i = 0;
  let seq = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    seq = seq * 10 + c;
    i++;
  }
  if (i === 0 || i > 10) throw bad('CSeq', 'expected "number method"');
  if (seq > MAX_CSEQ) throw bad('CSeq', 'sequence number out of range');
  const j = skipWs(s, i);
  if (j === i || j >= s.length) throw bad('CSeq', 'expected "number method"');
  const method = s.slice(j);
  if (!isToken(method)) throw bad('CSeq', 'bad method');
  return { seq, method };
}

/** Parses a decimal scalar header (Max-Forwards, Expires, ...), rejecting absurd lengths. */
export function parseScalar(s: string, header: string, max: number): number {
  if (s.length === 0 || s.length > 10) throw bad(header, 'number expected');
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) throw bad(header, 'number expected');
    n = n * 10 + c;
  }
  if (n > max) throw bad(header, 'value out of range');
  return n;
}

/** Common part of requests and responses. */
export abstract class SipMessage {
  headers: HeaderField[];
  body: Buffer;
  private _via: Via[] | undefined;
  private _from: NameAddr | undefined;
  private _to: NameAddr | undefined;
  private _cseq: CSeq | undefined;
  private _contact: NameAddr[] | undefined;

  constructor(headers: HeaderField[] = [], body: Buffer = EMPTY) {
    this.headers = headers;
    this.body = body;
  }

  abstract readonly isRequest: boolean;
  /** The start line without CRLF. */
  abstract startLine(): string;

  /** The first value of a header (the whole line for list headers), or undefined. */
  get(name: string): string | undefined {
    const n = normalizeHeaderName(name);
    for (const h of this.headers) if (h.name === n) return h.value;
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Every line of a header, in order. */
  getAll(name: string): string[] {
    const n = normalizeHeaderName(name);
    const out: string[] = [];
    for (const h of this.headers) if (h.name === n) out.push(h.value);
    return out;
  }

  /**
   * Every value of a header: lines of list headers split at top-level commas (RFC 3261 section
   * 7.3.1). Single-value headers return their lines unchanged.
   */
  values(name: string): string[] {
    const n = normalizeHeaderName(name);
    const lines = this.getAll(n);
    if (!LIST_HEADERS.has(n)) return lines;
    const out: string[] = [];
    for (const l of lines) for (const v of splitComma(l)) out.push(v);
    return out;
  }

  /** Replaces every line of a header with one line (or several, for an array). */
  set(name: string, value: HeaderValue | HeaderValue[]): this {
    const n = normalizeHeaderName(name);
    const vals = Array.isArray(value) ? value : [value];
    const at = this.headers.findIndex((h) => h.name === n);
    this.headers = this.headers.filter((h) => h.name !== n);
    const fields = vals.map((v) => ({ name: n, rawName: displayHeaderName(n, name), value: String(v) }));
    this.headers.splice(at < 0 ? this.headers.length : at, 0, ...fields);
    this.invalidate(n);
    return this;
  }

  /** Adds a header line after the existing ones (or first, with `prepend`). */
  append(name: string, value: HeaderValue, prepend = false): this {
    const n = normalizeHeaderName(name);
    const f = { name: n, rawName: displayHeaderName(n, name), value: String(value) };
    if (!prepend) this.headers.push(f);
    else {
      const at = this.headers.findIndex((h) => h.name === n);
      this.headers.splice(at < 0 ? 0 : at, 0, f);
    }
    this.invalidate(n);
    return this;
  }

  remove(name: string): this {
    const n = normalizeHeaderName(name);
    this.headers = this.headers.filter((h) => h.name !== n);
    this.invalidate(n);
    return this;
  }

  private invalidate(n: string): void {
    if (n === 'via') this._via = undefined;
    else if (n === 'from') this._from = undefined;
    else if (n === 'to') this._to = undefined;
    else if (n === 'cseq') this._cseq = undefined;
    else if (n === 'contact') this._contact = undefined;
  }

  /** All Via values, top first. @throws SipParseError */
  get via(): Via[] {
    if (this._via === undefined) {
      const out: Via[] = [];
      for (const h of this.headers) {
        if (h.name !== 'via') continue;
        for (const v of splitComma(h.value)) out.push(parseVia(v));
      }
      this._via = out;
    }
    return this._via;
  }

  /** The top Via (RFC 3261 section 17: the transaction key lives here). @throws SipParseError */
  get topVia(): Via {
    const v = this.via[0];
    if (v === undefined) throw missing('Via');
    return v;
  }

  /** Rewrites the top Via value (other values on the same line are kept). */
  replaceTopVia(via: Via): void {
    const h = this.headers.find((f) => f.name === 'via');
    if (!h) throw missing('Via');
    const rest = splitComma(h.value).slice(1);
    h.value = [via.toString(), ...rest].join(', ');
    this._via = undefined;
  }

  /** @throws SipParseError */
  get from(): NameAddr {
    return (this._from ??= parseNameAddr(this.single('from', 'From'), 'From'));
  }

  /** @throws SipParseError */
  get to(): NameAddr {
    return (this._to ??= parseNameAddr(this.single('to', 'To'), 'To'));
  }

  /** @throws SipParseError */
  get callId(): string {
    const v = this.single('call-id', 'Call-ID');
    if (v.length === 0 || v.indexOf(' ') >= 0 || v.indexOf('\t') >= 0) throw bad('Call-ID', 'bad value');
    return v;
  }

  /** @throws SipParseError */
  get cseq(): CSeq {
    return (this._cseq ??= parseCSeq(this.single('cseq', 'CSeq')));
  }

  /** Max-Forwards, or undefined when absent (RFC 3261 section 20.22). @throws SipParseError */
  get maxForwards(): number | undefined {
    const v = this.get('max-forwards');
    return v === undefined ? undefined : parseScalar(v, 'Max-Forwards', 255);
  }

  /**
   * Contact values; `*` (allowed only in REGISTER, RFC 3261 section 10.2.2) yields an empty list
   * and sets {@link isStarContact}. @throws SipParseError
   */
  get contact(): NameAddr[] {
    if (this._contact === undefined) {
      const out: NameAddr[] = [];
      for (const v of this.values('contact')) {
        if (v === '*') continue;
        if (v.length === 0) throw bad('Contact', 'empty value');
        out.push(parseNameAddr(v, 'Contact'));
      }
      this._contact = out;
    }
    return this._contact;
  }

  get isStarContact(): boolean {
    return this.values('contact').some((v) => v === '*');
  }

  /** Route values in order. @throws SipParseError */
  get routes(): NameAddr[] {
    return this.values('route').map((v) => parseNameAddr(v, 'Route'));
  }

  /** Record-Route values in order. @throws SipParseError */
  get recordRoutes(): NameAddr[] {
    return this.values('record-route').map((v) => parseNameAddr(v, 'Record-Route'));
  }

  /** The media type of the body, lower-cased, without parameters. */
  get contentType(): string | undefined {
    const v = this.get('content-type');
    if (v === undefined) return undefined;
    const semi = v.indexOf(';');
    return (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
  }

  private single(n: string, display: string): string {
    let found: string | undefined;
    for (const h of this.headers) {
      if (h.name !== n) continue;
      if (found !== undefined && found !== h.value) {
        throw new SipParseError('SIP_DUPLICATE_HEADER', `${display} appears more than once`, {
          header: display,
        });
      }
      found = h.value;
    }
    if (found === undefined) throw missing(display);
    return found;
  }

  /**
   * The message as text up to and including the blank line. Content-Length is always written
   * from the actual body length (RFC 3261 section 20.14), in place of any received value.
   */
  headText(): string {
    let s = this.startLine() + '\r\n';
    let wroteLength = false;
    for (const h of this.headers) {
      if (h.name === 'content-length') {
        if (wroteLength) continue;
        wroteLength = true;
        s += 'Content-Length: ' + this.body.length + '\r\n';
        continue;
      }
      s += displayHeaderName(h.name, h.rawName) + ': ' + h.value + '\r\n';
    }
    if (!wroteLength) s += 'Content-Length: ' + this.body.length + '\r\n';
    return s + '\r\n';
  }

  /** The message as bytes, ready for a transport. */
  serialize(): Buffer {
    return writeToSlab(this.headText(), this.body);
  }

  toString(): string {
    return this.headText() + this.body.toString('utf8');
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * A flat copy of `s` that shares no storage with the string it was sliced or concatenated from
 * (V8 keeps the parent of a sliced string, and every part of a concatenation, alive).
 */
export function detach(s: string): string {
  return s.length === 0 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

/**
 * Serialized messages are carved from 64 KiB slabs: one allocation per hundred or so messages
 * instead of one per message, without touching the process-wide Buffer.poolSize.
 */
const SLAB_SIZE = 64 * 1024;
let slabBuf = Buffer.allocUnsafe(SLAB_SIZE);
let slabPos = 0;

/** Head text and body as one buffer, written straight into the slab (no separate length pass). */
function writeToSlab(head: string, body: Buffer): Buffer {
  // UTF-8 needs at most 3 bytes per UTF-16 code unit.
  const room = head.length * 3 + body.length;
  if (room > SLAB_SIZE / 4) {
    const n = Buffer.byteLength(head, 'utf8');
    const out = Buffer.allocUnsafe(n + body.length);
    out.write(head, 0, 'utf8');
    body.copy(out, n);
    return out;
  }
  if (slabPos + room > SLAB_SIZE) {
    slabBuf = Buffer.allocUnsafe(SLAB_SIZE);
    slabPos = 0;
  }
  const start = slabPos;
  const n = slabBuf.write(head, start, 'utf8');
  if (body.length > 0) body.copy(slabBuf, start + n);
  const end = start + n + body.length;
  slabPos = (end + 7) & ~7;
  return slabBuf.subarray(start, end);
}

function missing(h: string): SipParseError {
  return new SipParseError('SIP_MISSING_HEADER', `missing ${h}`, { header: h });
}

/** A request (RFC 3261 section 7.1). */
export class SipRequest extends SipMessage {
  readonly isRequest = true;
  method: string;
  /** The Request-URI as received or set; parsed on demand by {@link uri}. */
  uriText: string;
  private _uri: Uri | undefined;
  constructor(method: string, uri: string | Uri, headers?: HeaderField[], body?: Buffer) {
    super(headers, body);
    this.method = method;
    if (typeof uri === 'string') this.uriText = uri;
    else {
      this.uriText = uri.toString();
      this._uri = uri;
    }
  }
  /** @throws SipParseError */
  get uri(): Uri {
    return (this._uri ??= parseUri(this.uriText));
  }
  set uri(u: Uri) {
    this._uri = u;
    this.uriText = u.toString();
  }
  startLine(): string {
    return `${this.method} ${this.uriText} SIP/2.0`;
  }
  /**
   * A small copy for a finished transaction to keep instead of the full request: method,
   * Request-URI, Call-ID and CSeq only, in strings that share nothing with the received text. The
   * many transactions alive for their timers (J, L, ...) then cost little to the garbage collector.
   */
  skeleton(): SipRequest {
    let callId: HeaderField | undefined;
    let cseq: HeaderField | undefined;
    for (const h of this.headers) {
      if (h.name === 'call-id') callId ??= h;
      else if (h.name === 'cseq') cseq ??= h;
    }
    const kept: HeaderField[] = [];
    if (callId) kept.push({ name: 'call-id', rawName: 'Call-ID', value: detach(callId.value) });
    if (cseq) kept.push({ name: 'cseq', rawName: 'CSeq', value: detach(cseq.value) });
    return new SipRequest(detach(this.method), detach(this.uriText), kept);
  }
}

/** A response (RFC 3261 section 7.2). */
export class SipResponse extends SipMessage {
  readonly isRequest = false;
  status: number;
  reason: string;
  constructor(status: number, reason: string, headers?: HeaderField[], body?: Buffer) {
    super(headers, body);
    this.status = status;
    this.reason = reason;
  }
  startLine(): string {
    return `SIP/2.0 ${this.status} ${this.reason}`;
  }
}

/** Builds a header field list from name/value pairs. */
export function headerFields(pairs: Array<[string, HeaderValue]>): HeaderField[] {
  return pairs.map(([name, value]) => {
    const n = normalizeHeaderName(name);
    return { name: n, rawName: displayHeaderName(n, name), value: String(value) };
  });
}
