/**
 * The checks a user agent server makes before acting on a request, in the order of RFC 3261
 * section 8.2: method (8.2.1), Request-URI scheme and target (8.2.2.1), required extensions
 * (8.2.2.3), content (8.2.3) and, for INVITE, acceptable answer types (RFC 4475 section 3.3.15).
 * Policy only: the caller decides what is allowed and which targets are local.
 */
import type { HeaderValue, SipRequest } from './message.ts';
import { createResponse } from './response.ts';
import { isSipUri } from './uri.ts';
import { KNOWN_METHODS } from './validate.ts';

export interface UasPolicy {
  /** Methods this UAS implements (listed in Allow). ACK and CANCEL should be among them. */
  allow: readonly string[];
  /** Option tags this UAS supports (listed in Supported; RFC 3261 section 20.37). */
  supported: readonly string[];
  /** Body media types it understands (listed in Accept on 415). */
  accept: readonly string[];
  /** Whether the Request-URI names something this UAS serves; false gives 404. */
  isLocalTarget(req: SipRequest): boolean | Promise<boolean>;
}

/** A rejection the UAS sends instead of processing the request. */
export interface UasRejection {
  status: number;
  reason?: string;
  headers: Array<[string, HeaderValue]>;
}

/** Runs the checks; resolves to undefined when the request may be processed. */
export async function screenRequest(req: SipRequest, policy: UasPolicy): Promise<UasRejection | undefined> {
  const allow = policy.allow.join(', ');
  if (!policy.allow.includes(req.method)) {
    // 405 for a method we recognise but do not serve, 501 for one we do not know (section 21.5.2).
    return { status: KNOWN_METHODS.has(req.method) ? 405 : 501, headers: [['Allow', allow]] };
  }
  if (req.method === 'ACK' || req.method === 'CANCEL') return undefined;
  if (!isSipUri(req.uri)) return { status: 416, headers: [] };
  if (!(await policy.isLocalTarget(req))) return { status: 404, headers: [] };
  const unsupported = req
    .values('require')
    .map((t) => t.trim())
    .filter((t) => t.length > 0 && !policy.supported.includes(t.toLowerCase()));
  if (unsupported.length > 0) return { status: 420, headers: [['Unsupported', unsupported.join(', ')]] };
  if (req.body.length > 0) {
    const type = req.contentType;
    if (type === undefined || !policy.accept.includes(type)) {
      return { status: 415, headers: [['Accept', policy.accept.join(', ')]] };
    }
    const enc = req.values('content-encoding').filter((e) => e.toLowerCase() !== 'identity');
    if (enc.length > 0) return { status: 415, headers: [['Accept-Encoding', 'identity']] };
  }
  if (req.method === 'INVITE' && req.has('accept')) {
    const accepted = req.values('accept').map((a) => a.split(';')[0]!.trim().toLowerCase());
    const ok = accepted.some(
      (a) => a === '' || a === '*/*' || a === 'application/*' || a === 'application/sdp',
    );
    if (!ok) {
      return {
        status: 406,
        headers: [['Warning', '399 - "Accept lacks application/sdp"']],
      };
    }
  }
  return undefined;
}

/**
 * The 200 answer to OPTIONS (RFC 3261 section 11.2): what this UAS can do, from its policy. Accept-Encoding
 * is `identity` because no content coding is implemented.
 */
export function optionsResponse(req: SipRequest, policy: Pick<UasPolicy, 'allow' | 'supported' | 'accept'>) {
  return createResponse(req, 200, {
    headers: [
      ['Allow', policy.allow.join(', ')],
      ['Accept', policy.accept.join(', ')],
      ['Accept-Encoding', 'identity'],
      ['Supported', policy.supported.join(', ')],
    ],
  });
}
