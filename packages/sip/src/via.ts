/**
 * The Via header value (RFC 3261 sections 8.1.1.7, 18.2.1, 20.42) with the rport extension
 * (RFC 3581).
 */
import { bad, isTokenChar, Params, readParams, skipWs } from './lex.ts';

/** The branch prefix that marks an RFC 3261 transaction identifier (section 8.1.1.7). */
export const MAGIC_COOKIE = 'z9hG4bK';

/** One Via value: `SIP/2.0/UDP host:port;branch=...`. */
export class Via {
  protocol: string;
  version: string;
  transport: string;
  host: string;
  port: number | undefined;
  params: Params;
  constructor(init: {
    transport: string;
    host: string;
    port?: number;
    params?: Params;
    protocol?: string;
    version?: string;
  }) {
    this.protocol = init.protocol ?? 'SIP';
    this.version = init.version ?? '2.0';
    this.transport = init.transport.toUpperCase();
    this.host = init.host;
    this.port = init.port;
    this.params = init.params ?? new Params();
  }
  get branch(): string | undefined {
    const b = this.params.get('branch');
    return b === null ? undefined : b;
  }
  get received(): string | undefined {
    const r = this.params.get('received');
    return r === null ? undefined : r;
  }
  /** RFC 3581: undefined when absent, null when present without a value, else the port. */
  get rport(): number | null | undefined {
    const r = this.params.get('rport');
    if (r === undefined || r === null) return r;
    return Number(r);
  }
  /** `host:port` as compared in transaction matching (RFC 3261 section 17.2.3 sent-by). */
  get sentBy(): string {
    return this.port === undefined ? this.host.toLowerCase() : `${this.host.toLowerCase()}:${this.port}`;
  }
  toString(): string {
    return `${this.protocol}/${this.version}/${this.transport} ${this.host}${this.port === undefined ? '' : ':' + this.port}${this.params.toString()}`;
  }
}

/**
 * Parses one Via value (after comma splitting). LWS is allowed around `/`, `:`, `;` and `=`
 * (RFC 3261 section 25.1 SLASH, COLON, SEMI, EQUAL).
 * @throws SipParseError
 */
export function parseVia(s: string): Via {
  const H = 'Via';
  let i = skipWs(s, 0);
  let j = tokenEnd(s, i);
  const protocol = s.slice(i, j);
  i = expect(s, skipWs(s, j), 47);
  i = skipWs(s, i);
  j = tokenEnd(s, i);
  const version = s.slice(i, j);
  i = expect(s, skipWs(s, j), 47);
  i = skipWs(s, i);
  j = tokenEnd(s, i);
  const transport = s.slice(i, j);
  i = j;
  const ws = i;
  i = skipWs(s, i);
  if (i === ws) throw bad(H, 'white space expected before sent-by');
  let host: string;
  if (s.charCodeAt(i) === 91) {
    const end = s.indexOf(']', i);
    if (end < 0) throw bad(H, 'unterminated IPv6 reference');
    host = s.slice(i, end + 1);
    if (!/^\[[0-9a-fA-F:.]+\]$/.test(host)) throw bad(H, 'bad IPv6 reference');
    i = end + 1;
  } else {
    const start = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46))
        break;
      i++;
    }
    if (i === start) throw bad(H, 'host expected');
    host = s.slice(start, i);
  }
  let port: number | undefined;
  j = skipWs(s, i);
  if (s.charCodeAt(j) === 58) {
    j = skipWs(s, j + 1);
    const start = j;
    while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    if (j === start || j - start > 5) throw bad(H, 'bad port');
    port = Number(s.slice(start, j));
    if (port > 65535) throw bad(H, 'port out of range');
    i = j;
  }
  const params = new Params();
  i = readParams(s, i, params, H);
  i = skipWs(s, i);
  if (i !== s.length) throw bad(H, `unexpected ${JSON.stringify(s[i])}`);
  const rport = params.get('rport');
  if (rport !== undefined && rport !== null && !/^\d{1,5}$/.test(rport)) throw bad(H, 'bad rport');
  return new Via({ protocol, version, transport, host, port, params });
}

/** End of a non-empty token at `i`. */
function tokenEnd(s: string, i: number): number {
  let j = i;
  while (j < s.length && isTokenChar(s.charCodeAt(j))) j++;
  if (j === i) throw bad('Via', `token expected at ${i}`);
  return j;
}

function expect(s: string, i: number, code: number): number {
  if (s.charCodeAt(i) !== code) throw bad('Via', `${String.fromCharCode(code)} expected`);
  return i + 1;
}
