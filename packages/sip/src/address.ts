/**
 * name-addr and addr-spec header values: From, To, Contact, Route, Record-Route, Reply-To
 * (RFC 3261 sections 20.10, 20.20, 20.39, 25.1).
 */
import { bad, Params, quote, readParams, readQuoted, skipWs, isTokenChar } from './lex.ts';
import { parseUri, type Uri } from './uri.ts';
import { SipParseError } from './errors.ts';

/** An address with optional display name and header parameters (tag, expires, q, ...). */
export class NameAddr {
  displayName: string | undefined;
  uri: Uri;
  params: Params;
  constructor(uri: Uri, displayName?: string, params: Params = new Params()) {
    this.uri = uri;
    this.displayName = displayName;
    this.params = params;
  }

  /** The tag parameter (RFC 3261 section 19.3), used by From and To. */
  get tag(): string | undefined {
    const t = this.params.get('tag');
    return t === null ? undefined : t;
  }
  set tag(v: string | undefined) {
    if (v === undefined) this.params.delete('tag');
    else this.params.set('tag', v);
  }

  clone(): NameAddr {
    const u = this.uri;
    return new NameAddr('clone' in u ? u.clone() : u, this.displayName, this.params.clone());
  }

  /** Always writes the name-addr form (angle brackets), which is valid for every URI. */
  toString(): string {
    const dn =
      this.displayName !== undefined && this.displayName.length > 0 ? quote(this.displayName) + ' ' : '';
    return dn + '<' + this.uri.toString() + '>' + this.params.toString();
  }
}

/**
 * Parses one name-addr or addr-spec followed by parameters. In the addr-spec form the URI ends at
 * the first `;` and its parameters are header parameters (RFC 3261 section 20.10); a URI with
 * `,`, `?` or `;` of its own must be in angle brackets, so `sip:a@b?Route=x` without brackets is
 * rejected (RFC 4475 section 3.1.2.13).
 * @throws SipParseError
 */
export function parseNameAddr(s: string, header: string): NameAddr {
  let i = skipWs(s, 0);
  let displayName: string | undefined;
  if (s.charCodeAt(i) === 34) {
    [displayName, i] = readQuoted(s, i, header);
    i = skipWs(s, i);
    if (s.charCodeAt(i) !== 60) throw bad(header, '"<" expected after display name');
  } else if (s.charCodeAt(i) !== 60) {
    // Either display-name tokens followed by '<', or an addr-spec.
    let j = i;
    let words = 0;
    for (;;) {
      const start = j;
      while (j < s.length && isTokenChar(s.charCodeAt(j))) j++;
      if (j === start) break;
      words++;
      j = skipWs(s, j);
    }
    if (words > 0 && s.charCodeAt(j) === 60) {
      displayName = s.slice(i, j).trim();
      i = j;
    }
  }
  let uri: Uri;
  if (s.charCodeAt(i) === 60) {
    const end = s.indexOf('>', i + 1);
    if (end < 0) throw bad(header, 'unterminated <');
    uri = wrap(s.slice(i + 1, end), header);
    i = end + 1;
  } else {
    const start = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 59 || c === 32 || c === 9 || c === 44) break;
      i++;
    }
    const text = s.slice(start, i);
    if (text.indexOf('?') >= 0) throw bad(header, 'URI with headers must be enclosed in <>');
    uri = wrap(text, header);
  }
  const params = new Params();
  i = readParams(s, i, params, header);
  i = skipWs(s, i);
  if (i !== s.length) throw bad(header, `unexpected ${JSON.stringify(s[i])}`);
  return new NameAddr(uri, displayName, params);
}

function wrap(text: string, header: string): Uri {
  try {
    return parseUri(text);
  } catch (e) {
    if (e instanceof SipParseError) throw bad(header, e.message);
    throw e;
  }
}
