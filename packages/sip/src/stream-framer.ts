/**
 * Splits a byte stream (TCP, TLS) into SIP messages by Content-Length (RFC 3261 section 18.3),
 * and recognises the CRLF keep-alives of RFC 5626 section 3.5.1 between messages.
 */
import { SipParseError } from './errors.ts';
import type { SipMessage } from './message.ts';
import { DEFAULT_LIMITS, type ParseLimits, parseHead, partialOf, SipMessageError } from './parser.ts';

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** What one {@link StreamFramer.push} produced, in order. */
export type FramerEvent =
  | { kind: 'message'; message: SipMessage }
  /** A double CRLF "ping" between messages: answer with a single CRLF "pong". */
  | { kind: 'ping' }
  /**
   * The stream cannot be framed any more. The caller answers `error.partial` when it can, then
   * closes the connection (RFC 4475 sections 3.1.2.3 and 3.3.9).
   */
  | { kind: 'fatal'; error: SipMessageError };

/**
 * Incremental framer. Feed it chunks; it buffers at most one message (bounded by the limits) and
 * returns the complete messages. After a fatal event it ignores further input.
 */
export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);
  private dead = false;
  private readonly limits: ParseLimits;
  constructor(limits: ParseLimits = DEFAULT_LIMITS) {
    this.limits = limits;
  }

  /** Octets waiting for the rest of a message. */
  get buffered(): number {
    return this.buf.length;
  }

  push(chunk: Buffer): FramerEvent[] {
    if (this.dead) return [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: FramerEvent[] = [];
    for (;;) {
      // Keep-alives and stray CRLFs between messages.
      let i = 0;
      while (i + 1 < this.buf.length && this.buf[i] === 13 && this.buf[i + 1] === 10) i += 2;
      if (i >= 4) out.push({ kind: 'ping' });
      if (i > 0) this.buf = this.buf.subarray(i);
      if (this.buf.length === 0) break;
      const headEnd = this.buf.indexOf(CRLFCRLF);
      if (headEnd < 0) {
        if (this.buf.length > this.limits.maxHeadBytes) {
          out.push(
            this.fatal(new SipParseError('SIP_HEADERS_TOO_LARGE', 'header section too large'), undefined),
          );
        }
        break;
      }
      if (headEnd > this.limits.maxHeadBytes) {
        out.push(
          this.fatal(new SipParseError('SIP_HEADERS_TOO_LARGE', 'header section too large'), undefined),
        );
        break;
      }
      let head;
      try {
        head = parseHead(this.buf.toString('utf8', 0, headEnd), this.limits);
      } catch (e) {
        if (!(e instanceof SipMessageError)) throw e;
        out.push(this.fatal(e, e.partial));
        break;
      }
      if (head.contentLength === undefined) {
        out.push(
          this.fatal(
            new SipParseError('SIP_CONTENT_LENGTH', 'Content-Length is mandatory on stream transports'),
            partialOf(head.message),
          ),
        );
        break;
      }
      const total = headEnd + 4 + head.contentLength;
      if (this.buf.length < total) break;
      head.message.body = Buffer.from(this.buf.subarray(headEnd + 4, total));
      out.push({ kind: 'message', message: head.message });
      this.buf = this.buf.subarray(total);
    }
    if (this.buf.length === 0) this.buf = Buffer.alloc(0);
    return out;
  }

  private fatal(e: SipParseError, partial: SipMessageError['partial']): FramerEvent {
    this.dead = true;
    this.buf = Buffer.alloc(0);
    return { kind: 'fatal', error: e instanceof SipMessageError ? e : new SipMessageError(e, partial) };
  }
}
