/**
 * Checks that a received message is well-formed enough to be processed (RFC 3261 sections 8.1.3.3,
 * 8.2 and 17), beyond the framing checks of the parser. Forces the lazily parsed headers that every
 * element depends on, so their syntax errors surface here as a 400 rather than later.
 */
import { SipParseError } from './errors.ts';
import type { SipRequest, SipResponse } from './message.ts';
import { MAGIC_COOKIE } from './via.ts';
import { isSipUri } from './uri.ts';

/** Methods of RFC 3261 and the common extensions, whose CSeq must name the same method. */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'OPTIONS',
  'REGISTER',
  'PRACK',
  'SUBSCRIBE',
  'NOTIFY',
  'PUBLISH',
  'INFO',
  'REFER',
  'MESSAGE',
  'UPDATE',
]);

/** Why a request is rejected before any transaction exists: the status to answer statelessly. */
export interface RequestProblem {
  status: number;
  reason?: string;
  detail: string;
}

/**
 * Returns undefined when `req` can be handed to the transaction layer, else the problem.
 * A CSeq method differing from the request method is a 400 for known methods only: for an
 * unknown method the UAS answers 501 first (RFC 4475 section 3.1.2.18).
 */
export function checkRequest(req: SipRequest): RequestProblem | undefined {
  try {
    const vias = req.via;
    if (vias.length === 0) return { status: 400, detail: 'missing Via' };
    const branch = vias[0]!.branch;
    if (branch !== undefined && branch === MAGIC_COOKIE) {
      // A bare magic cookie is no transaction identifier (RFC 4475 section 3.2.1).
      return { status: 400, detail: 'Via branch is only the magic cookie' };
    }
    void req.from;
    void req.to;
    void req.callId;
    const cseq = req.cseq;
    void req.maxForwards;
    const uri = req.uri;
    if (isSipUri(uri) && uri.headers.length > 0) {
      return { status: 400, detail: 'Request-URI must not contain headers' };
    }
    void req.contact;
    if (cseq.method !== req.method && KNOWN_METHODS.has(req.method)) {
      return { status: 400, detail: 'CSeq method does not match the request method' };
    }
  } catch (e) {
    if (e instanceof SipParseError) return { status: e.status, detail: e.message };
    throw e;
  }
  return undefined;
}

/**
 * Returns undefined when a response can be processed by a UAC, else why it is discarded:
 * responses with more than one Via are not for us (RFC 3261 section 8.1.3.3).
 */
export function checkResponse(res: SipResponse): string | undefined {
  try {
    const vias = res.via;
    if (vias.length !== 1) return 'a response to a UAC carries exactly one Via';
    void res.from;
    void res.to;
    void res.callId;
    void res.cseq;
  } catch (e) {
    if (e instanceof SipParseError) return e.message;
    throw e;
  }
  return undefined;
}
