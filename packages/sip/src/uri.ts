/**
 * URIs as used in SIP: the SIP and SIPS URI of RFC 3261 section 19.1 and, for any other scheme,
 * an opaque absolute URI (RFC 3261 section 25.1 absoluteURI) that is kept but not interpreted.
 *
 * Escaped octets (`%HH`) in the user, password, parameter and header parts are decoded once
 * (RFC 3261 section 19.1.2; RFC 4475 section 3.1.1.3: `value%2541` decodes to `value%41`, no
 * recursive unescaping) and re-escaped minimally on serialization; an escaped unreserved character
 * and its plain form are equivalent (RFC 3261 section 19.1.4).
 */
import { SipParseError } from './errors.ts';

function charSet(extra: string): Uint8Array {
  const t = new Uint8Array(128);
  for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()" + extra) {
    t[c.charCodeAt(0)] = 1;
  }
  return t;
}
const USER = charSet('&=+$,;?/');
const PASSWORD = charSet('&=+$,');
const PARAM = charSet('[]/:&+$');
const HEADER = charSet('[]/?:+$');

function uriError(what: string): SipParseError {
  return new SipParseError('SIP_URI', `bad URI: ${what}`);
}

const HEX = '0123456789ABCDEF';

/** Decodes %HH escapes of a URI component checked against `allowed`. */
function unescape(s: string, allowed: Uint8Array, what: string): string {
  let hasPercent = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) hasPercent = true;
    else if (c >= 128 || allowed[c] !== 1) throw uriError(`character ${JSON.stringify(s[i])} in ${what}`);
  }
  if (!hasPercent) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      const h = parseInt(s.slice(i + 1, i + 3), 16);
      if (i + 2 >= s.length || Number.isNaN(h) || !/^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
        throw uriError(`bad escape in ${what}`);
      }
      bytes.push(h);
      i += 2;
    } else bytes.push(c);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Escapes a decoded component: characters outside `allowed` become %HH of their UTF-8 octets. */
function escape(s: string, allowed: Uint8Array): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || allowed[c] !== 1) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += b < 128 && allowed[b] === 1 ? String.fromCharCode(b) : '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/** A sip: or sips: URI (RFC 3261 section 19.1.1). Components are held decoded. */
export class SipUri {
  scheme: 'sip' | 'sips';
  user: string | undefined;
  password: string | undefined;
  /** Host name, IPv4 address or bracketed IPv6 reference, as written (case kept). */
  host: string;
  port: number | undefined;
  /** uri-parameters in order; names as written, values decoded, null for a bare name. */
  params: Array<[string, string | null]>;
  /** headers (`?a=b&c=d`), decoded. */
  headers: Array<[string, string]>;

  constructor(init: {
    scheme?: 'sip' | 'sips';
    user?: string;
    password?: string;
    host: string;
    port?: number;
    params?: Array<[string, string | null]>;
    headers?: Array<[string, string]>;
  }) {
    this.scheme = init.scheme ?? 'sip';
    this.user = init.user;
    this.password = init.password;
    this.host = init.host;
    this.port = init.port;
    this.params = init.params ?? [];
    this.headers = init.headers ?? [];
  }

  get isSip(): true {
    return true;
  }

  /** The value of a uri-parameter (name compared case-insensitively); null for a bare name. */
  param(name: string): string | null | undefined {
    for (const [k, v] of this.params) if (k === name || k.toLowerCase() === name) return v;
    return undefined;
  }

  setParam(name: string, value: string | null): this {
    const p = this.params.find(([k]) => k.toLowerCase() === name);
    if (p) p[1] = value;
    else this.params.push([name, value]);
    return this;
  }

  clone(): SipUri {
    return new SipUri({
      scheme: this.scheme,
      user: this.user,
      password: this.password,
      host: this.host,
      port: this.port,
      params: this.params.map(([k, v]) => [k, v]),
      headers: this.headers.map(([k, v]) => [k, v]),
    });
  }

  /** `scheme:user@host:port`, the address-of-record form without parameters. */
  toAor(): string {
    return `${this.scheme}:${this.user !== undefined ? escape(this.user, USER) + '@' : ''}${this.host.toLowerCase()}`;
  }

  toString(): string {
    let s = this.scheme + ':';
    if (this.user !== undefined) {
      s += escape(this.user, USER);
      if (this.password !== undefined) s += ':' + escape(this.password, PASSWORD);
      s += '@';
    }
    s += this.host;
    if (this.port !== undefined) s += ':' + this.port;
    for (const [k, v] of this.params)
      s += ';' + escape(k, PARAM) + (v === null ? '' : '=' + escape(v, PARAM));
    if (this.headers.length > 0) {
      s += '?' + this.headers.map(([k, v]) => escape(k, HEADER) + '=' + escape(v, HEADER)).join('&');
    }
    return s;
  }
}

/** A URI of any other scheme (tel:, http:, urn:, ...), kept opaque. */
export class OtherUri {
  readonly isSip = false;
  constructor(
    readonly scheme: string,
    readonly rest: string,
  ) {}
  toString(): string {
    return this.scheme + ':' + this.rest;
  }
}

export type Uri = SipUri | OtherUri;

function isSchemeChar(c: number, first: boolean): boolean {
  const alpha = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  if (first) return alpha;
  return alpha || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46;
}

/** Validates and splits host[:port] (RFC 3261 section 25.1 hostport). */
function parseHostPort(s: string): [string, number | undefined] {
  if (s.length === 0) throw uriError('empty host');
  let host: string;
  let rest: string;
  if (s.charCodeAt(0) === 91) {
    const end = s.indexOf(']');
    if (end < 0) throw uriError('unterminated IPv6 reference');
    host = s.slice(0, end + 1);
    if (!/^\[[0-9a-fA-F:.]+\]$/.test(host)) throw uriError('bad IPv6 reference');
    rest = s.slice(end + 1);
  } else {
    const colon = s.indexOf(':');
    host = colon < 0 ? s : s.slice(0, colon);
    rest = colon < 0 ? '' : s.slice(colon);
    for (let i = 0; i < host.length; i++) {
      const c = host.charCodeAt(i);
      const ok =
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46;
      if (!ok) throw uriError(`character ${JSON.stringify(host[i])} in host`);
    }
    if (host.length === 0) throw uriError('empty host');
  }
  if (rest.length === 0) return [host, undefined];
  if (rest.charCodeAt(0) !== 58 || rest.length < 2 || rest.length > 6) throw uriError('bad port');
  let port = 0;
  for (let i = 1; i < rest.length; i++) {
    const c = rest.charCodeAt(i) - 48;
    if (c < 0 || c > 9) throw uriError('bad port');
    port = port * 10 + c;
  }
  if (port > 65535) throw uriError('port out of range');
  return [host, port];
}

/**
 * Parses a URI. `s` must be exactly the URI (no surrounding white space or brackets).
 * @throws SipParseError (code SIP_URI)
 */
export function parseUri(s: string): Uri {
  const colon = s.indexOf(':');
  if (colon <= 0) throw uriError('no scheme');
  let scheme: string;
  // sip and sips without allocating (the common case), any other scheme the long way
  if ((s.charCodeAt(0) | 32) === 115 && (s.charCodeAt(1) | 32) === 105 && (s.charCodeAt(2) | 32) === 112) {
    scheme = colon === 3 ? 'sip' : colon === 4 && (s.charCodeAt(3) | 32) === 115 ? 'sips' : '';
  } else scheme = '';
  if (scheme === '') {
    for (let i = 0; i < colon; i++) if (!isSchemeChar(s.charCodeAt(i), i === 0)) throw uriError('bad scheme');
    scheme = s.slice(0, colon).toLowerCase();
  }
  if (scheme !== 'sip' && scheme !== 'sips') {
    const rest = s.slice(colon + 1);
    for (let i = 0; i < rest.length; i++) {
      const c = rest.charCodeAt(i);
      // absoluteURI characters: no controls, white space, quotes or angle brackets
      if (c <= 32 || c === 34 || c === 60 || c === 62 || c === 127)
        throw uriError('bad character in absolute URI');
    }
    if (rest.length === 0) throw uriError('empty absolute URI');
    return new OtherUri(scheme, rest);
  }
  let i = colon + 1;
  let user: string | undefined;
  let password: string | undefined;
  const at = s.indexOf('@', i);
  if (at >= 0) {
    const userinfo = s.slice(i, at);
    const pc = userinfo.indexOf(':');
    user = unescape(pc < 0 ? userinfo : userinfo.slice(0, pc), USER, 'user');
    if (pc >= 0) password = unescape(userinfo.slice(pc + 1), PASSWORD, 'password');
    if (user.length === 0 && pc < 0) throw uriError('empty user');
    i = at + 1;
  }
  let end = i;
  while (end < s.length) {
    const c = s.charCodeAt(end);
    if (c === 59 || c === 63) break;
    end++;
  }
  const [host, port] = parseHostPort(s.slice(i, end));
  const params: Array<[string, string | null]> = [];
  const headers: Array<[string, string]> = [];
  i = end;
  while (i < s.length && s.charCodeAt(i) === 59) {
    let j = i + 1;
    while (j < s.length && s.charCodeAt(j) !== 59 && s.charCodeAt(j) !== 63) j++;
    const p = s.slice(i + 1, j);
    const eq = p.indexOf('=');
    const name = unescape(eq < 0 ? p : p.slice(0, eq), PARAM, 'parameter');
    if (name.length === 0) throw uriError('empty parameter name');
    params.push([name, eq < 0 ? null : unescape(p.slice(eq + 1), PARAM, 'parameter')]);
    i = j;
  }
  if (i < s.length) {
    // s[i] === '?'
    for (const h of s.slice(i + 1).split('&')) {
      const eq = h.indexOf('=');
      if (eq <= 0) throw uriError('bad header in URI');
      headers.push([unescape(h.slice(0, eq), HEADER, 'header'), unescape(h.slice(eq + 1), HEADER, 'header')]);
    }
  }
  return new SipUri({ scheme, user, password, host, port, params, headers });
}

/** Type guard for SIP and SIPS URIs. */
export function isSipUri(u: Uri): u is SipUri {
  return u instanceof SipUri;
}
