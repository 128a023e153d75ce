/**
 * The SIP message parser (RFC 3261 sections 7 and 25) for datagrams, and the header-section
 * parser shared with the stream framer.
 *
 * Framing follows RFC 3261 section 18.3: over UDP a missing Content-Length means "the rest of the
 * datagram", octets after Content-Length are ignored, and a Content-Length larger than the datagram
 * is an error; over streams Content-Length is mandatory. Limits on line length, header count and
 * body size bound the work and memory any peer can cause.
 */
import { SipParseError } from './errors.ts';
import { normalizeHeaderName } from './header-names.ts';
import { isToken, isTokenChar } from './lex.ts';
import { type HeaderField, type SipMessage, SipRequest, SipResponse } from './message.ts';

/** Bounds on what one message may contain. */
export interface ParseLimits {
  /** Header fields (after unfolding). */
  maxHeaders: number;
  /** Octets of one physical line. */
  maxLineLength: number;
  /** Octets of the start line and header section. */
  maxHeadBytes: number;
  /** Octets of the body. */
  maxBodyBytes: number;
}

export const DEFAULT_LIMITS: ParseLimits = {
  maxHeaders: 128,
  maxLineLength: 8192,
  maxHeadBytes: 32768,
  maxBodyBytes: 65536,
};

/** What could be read of a message that failed to parse, enough to answer it with an error. */
export interface PartialMessage {
  isRequest: boolean;
  method: string | undefined;
  headers: HeaderField[];
}

/** A parse error together with whatever was readable, for forming an error response. */
export class SipMessageError extends SipParseError {
  readonly partial: PartialMessage | undefined;
  constructor(cause: SipParseError, partial: PartialMessage | undefined) {
    super(cause.code, cause.message, { status: cause.status, header: cause.header });
    this.partial = partial;
  }
}

/** The start line and header fields, before the body is attached. */
export interface MessageHead {
  message: SipMessage;
  /** Content-Length, or undefined when absent. */
  contentLength: number | undefined;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

function fail(code: SipParseError['code'], msg: string, status = 400): SipParseError {
  return new SipParseError(code, msg, { status });
}

/**
 * Parses the start line and headers in `text` (no trailing blank line).
 * @throws SipMessageError
 */
export function parseHead(text: string, limits: ParseLimits = DEFAULT_LIMITS): MessageHead {
  const headers: HeaderField[] = [];
  let lineEnd = text.indexOf('\r\n');
  const startLine = lineEnd < 0 ? text : text.slice(0, lineEnd);
  const isRequest = !startLine.startsWith('SIP/');
  const sp = startLine.indexOf(' ');
  const method = isRequest && sp > 0 ? startLine.slice(0, sp) : undefined;
  let error: SipParseError | undefined;
  if (startLine.length > limits.maxLineLength) error = fail('SIP_LINE_TOO_LONG', 'start line too long');

  // Header lines, unfolding continuation lines (RFC 3261 section 7.3.1).
  let pos = lineEnd < 0 ? text.length : lineEnd + 2;
  let current: HeaderField | undefined;
  while (pos < text.length) {
    let end = text.indexOf('\r\n', pos);
    if (end < 0) end = text.length;
    if (end - pos > limits.maxLineLength) {
      error ??= fail('SIP_LINE_TOO_LONG', 'header line too long');
      pos = end + 2;
      continue;
    }
    const c0 = text.charCodeAt(pos);
    if (c0 === 32 || c0 === 9) {
      if (current === undefined) error ??= fail('SIP_HEADER_SYNTAX', 'continuation line before any header');
      else current.value = (current.value + ' ' + text.slice(pos, end).trim()).trim();
      pos = end + 2;
      continue;
    }
    const colon = text.indexOf(':', pos);
    if (colon < 0 || colon > end) {
      error ??= fail('SIP_HEADER_SYNTAX', 'header line without colon');
      current = undefined;
      pos = end + 2;
      continue;
    }
    let nameEnd = colon;
    while (nameEnd > pos && (text.charCodeAt(nameEnd - 1) === 32 || text.charCodeAt(nameEnd - 1) === 9))
      nameEnd--;
    const rawName = text.slice(pos, nameEnd);
    let ok = rawName.length > 0;
    for (let i = 0; ok && i < rawName.length; i++) ok = isTokenChar(rawName.charCodeAt(i));
    if (!ok) {
      error ??= fail('SIP_HEADER_SYNTAX', 'bad header name');
      current = undefined;
      pos = end + 2;
      continue;
    }
    if (headers.length >= limits.maxHeaders) {
      error ??= fail('SIP_TOO_MANY_HEADERS', 'too many header fields');
      break;
    }
    let vs = colon + 1;
    let ve = end;
    while (vs < ve && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs++;
    while (ve > vs && (text.charCodeAt(ve - 1) === 32 || text.charCodeAt(ve - 1) === 9)) ve--;
    current = { name: normalizeHeaderName(rawName), rawName, value: text.slice(vs, ve) };
    headers.push(current);
    pos = end + 2;
  }

  if (error) throw new SipMessageError(error, { isRequest, method, headers });

  let contentLength: number | undefined;
  for (const h of headers) {
    if (h.name !== 'content-length') continue;
    const n = digits(h.value);
    if (n < 0) {
      throw new SipMessageError(fail('SIP_CONTENT_LENGTH', 'bad Content-Length'), {
        isRequest,
        method,
        headers,
      });
    }
    if (contentLength !== undefined && contentLength !== n) {
      throw new SipMessageError(fail('SIP_CONTENT_LENGTH', 'conflicting Content-Length values'), {
        isRequest,
        method,
        headers,
      });
    }
    contentLength = n;
  }
  if (contentLength !== undefined && contentLength > limits.maxBodyBytes) {
    throw new SipMessageError(fail('SIP_BODY_TOO_LARGE', 'body too large', 413), {
      isRequest,
      method,
      headers,
    });
  }

  let message: SipMessage;
  try {
    message = isRequest ? parseRequestLine(startLine, headers) : parseStatusLine(startLine, headers);
  } catch (e) {
    if (e instanceof SipParseError) throw new SipMessageError(e, { isRequest, method, headers });
    throw e;
  }
  return { message, contentLength };
}

/** The value of 1 to 10 decimal digits, or -1. */
export function digits(s: string): number {
  if (s.length === 0 || s.length > 10) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** `Method SP Request-URI SP SIP-Version`, single spaces only (RFC 3261 section 7.1). */
function parseRequestLine(line: string, headers: HeaderField[]): SipRequest {
  const a = line.indexOf(' ');
  const b = a < 0 ? -1 : line.indexOf(' ', a + 1);
  if (a <= 0 || b < 0 || line.indexOf(' ', b + 1) >= 0 || b === a + 1) {
    throw fail('SIP_START_LINE', 'malformed Request-Line');
  }
  const method = line.slice(0, a);
  const uri = line.slice(a + 1, b);
  const version = line.slice(b + 1);
  if (!isToken(method)) throw fail('SIP_START_LINE', 'bad method');
  if (!/^SIP\/\d+\.\d+$/i.test(version)) throw fail('SIP_START_LINE', 'bad SIP-Version');
  if (version.toUpperCase() !== 'SIP/2.0') throw fail('SIP_VERSION', `unsupported version ${version}`, 505);
  if (/[\t<>"]/.test(uri) || uri.indexOf(':') <= 0) throw fail('SIP_START_LINE', 'bad Request-URI');
  return new SipRequest(method, uri, headers);
}

/** `SIP-Version SP Status-Code SP Reason-Phrase` (RFC 3261 section 7.2). */
function parseStatusLine(line: string, headers: HeaderField[]): SipResponse {
  const a = line.indexOf(' ');
  if (a < 0) throw fail('SIP_START_LINE', 'malformed Status-Line');
  const version = line.slice(0, a);
  if (version.toUpperCase() !== 'SIP/2.0') throw fail('SIP_VERSION', `unsupported version ${version}`, 505);
  const b = line.indexOf(' ', a + 1);
  const code = b < 0 ? line.slice(a + 1) : line.slice(a + 1, b);
  if (!/^[1-6]\d\d$/.test(code)) throw fail('SIP_STATUS_CODE', 'bad Status-Code');
  return new SipResponse(Number(code), b < 0 ? '' : line.slice(b + 1), headers);
}

/** Index just after leading CRLFs, which a receiver ignores (RFC 3261 section 7.5). */
export function skipLeadingCrlf(buf: Buffer, i: number): number {
  while (i + 1 < buf.length && buf[i] === 13 && buf[i + 1] === 10) i += 2;
  return i;
}

/**
 * Parses one message from a UDP datagram (RFC 3261 section 18.3).
 * A datagram whose header section lacks the closing blank line is read to its end.
 * @throws SipMessageError
 */
export function parseDatagram(buf: Buffer, limits: ParseLimits = DEFAULT_LIMITS): SipMessage {
  const start = skipLeadingCrlf(buf, 0);
  let headEnd = buf.indexOf(CRLFCRLF, start);
  let bodyStart: number;
  if (headEnd < 0) {
    headEnd = buf.length;
    while (headEnd > start && (buf[headEnd - 1] === 10 || buf[headEnd - 1] === 13)) headEnd--;
    bodyStart = buf.length;
  } else bodyStart = headEnd + 4;
  if (headEnd - start > limits.maxHeadBytes) {
    throw new SipMessageError(fail('SIP_HEADERS_TOO_LARGE', 'header section too large'), undefined);
  }
  const head = parseHead(buf.toString('utf8', start, headEnd), limits);
  const available = buf.length - bodyStart;
  let length = head.contentLength ?? available;
  if (head.contentLength === undefined && length > limits.maxBodyBytes) {
    throw new SipMessageError(fail('SIP_BODY_TOO_LARGE', 'body too large', 413), partialOf(head.message));
  }
  if (length > available) {
    throw new SipMessageError(
      fail('SIP_TRUNCATED', 'Content-Length exceeds the datagram'),
      partialOf(head.message),
    );
  }
  if (length < 0) length = 0;
  // Copy the body out so the (possibly large) datagram buffer is not retained.
  head.message.body =
    length === 0 ? head.message.body : Buffer.from(buf.subarray(bodyStart, bodyStart + length));
  return head.message;
}

/** Parses a message from text or bytes (datagram rules). Convenience for tests and tools. */
export function parseMessage(input: string | Buffer, limits?: ParseLimits): SipMessage {
  return parseDatagram(typeof input === 'string' ? Buffer.from(input, 'utf8') : input, limits);
}

export function partialOf(m: SipMessage): PartialMessage {
  return {
    isRequest: m.isRequest,
    method: m instanceof SipRequest ? m.method : undefined,
    headers: m.headers,
  };
}
