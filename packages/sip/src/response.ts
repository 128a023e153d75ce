/**
 * Building responses to requests (RFC 3261 section 8.2.6), including error responses to requests
 * that could only be partly parsed.
 */
import { newTag } from './ids.ts';
import { type HeaderField, type HeaderValue, type SipRequest, SipResponse } from './message.ts';
import type { PartialMessage } from './parser.ts';
import { reasonPhrase } from './reasons.ts';
import { normalizeHeaderName, displayHeaderName } from './header-names.ts';

/** Headers copied from a request into its responses (RFC 3261 section 8.2.6.2). */
const COPIED = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

export interface ResponseOptions {
  reason?: string;
  /** The To tag to add when the request has none (ignored for 100). Generated when omitted. */
  toTag?: string;
  headers?: Array<[string, HeaderValue]>;
  body?: Buffer;
  contentType?: string;
}

/**
 * A response to `req`: Via, From, To, Call-ID and CSeq copied as received; a To tag added for
 * status > 100 when the request had none; Timestamp echoed in 100 (section 8.2.6.1).
 */
export function createResponse(req: SipRequest, status: number, opts: ResponseOptions = {}): SipResponse {
  const headers: HeaderField[] = [];
  for (const h of req.headers) {
    if (!COPIED.has(h.name)) continue;
    if (h.name === 'to' && status > 100) {
      let hasTag = false;
      try {
        hasTag = req.to.tag !== undefined;
      } catch {
        hasTag = true; // unparseable To: copy it untouched
      }
      headers.push(hasTag ? h : { ...h, value: h.value + ';tag=' + (opts.toTag ?? newTag()) });
    } else headers.push(h);
  }
  if (status === 100) {
    const ts = req.get('timestamp');
    if (ts !== undefined) headers.push(field('Timestamp', ts));
  }
  return finish(new SipResponse(status, opts.reason ?? reasonPhrase(status), headers), opts);
}

/**
 * An error response to a request that failed to parse, from the header lines that could be read,
 * or undefined when none can be formed (not a request, an ACK, or no Via to answer along).
 */
export function createErrorResponse(
  partial: PartialMessage | undefined,
  status: number,
  opts: ResponseOptions = {},
): SipResponse | undefined {
  if (!partial || !partial.isRequest || partial.method === 'ACK') return undefined;
  const headers = partial.headers.filter((h) => COPIED.has(h.name));
  if (!headers.some((h) => h.name === 'via')) return undefined;
  return finish(new SipResponse(status, opts.reason ?? reasonPhrase(status), headers), opts);
}

function finish(res: SipResponse, opts: ResponseOptions): SipResponse {
  for (const [n, v] of opts.headers ?? []) res.headers.push(field(n, String(v)));
  if (opts.body) {
    res.body = opts.body;
    if (opts.contentType) res.headers.push(field('Content-Type', opts.contentType));
  }
  return res;
}

function field(name: string, value: string): HeaderField {
  const n = normalizeHeaderName(name);
  return { name: n, rawName: displayHeaderName(n, name), value };
}
