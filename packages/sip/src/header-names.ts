/**
 * Header field names: compact forms (RFC 3261 section 7.3.3 and the extensions that define one)
 * and the canonical spelling used when serializing. Names are case-insensitive (section 7.3.1).
 */

const CANONICAL = [
  'Accept',
  'Accept-Contact',
  'Accept-Encoding',
  'Accept-Language',
  'Alert-Info',
  'Allow',
  'Allow-Events',
  'Authentication-Info',
  'Authorization',
  'Call-ID',
  'Call-Info',
  'Contact',
  'Content-Disposition',
  'Content-Encoding',
  'Content-Language',
  'Content-Length',
  'Content-Type',
  'CSeq',
  'Date',
  'Error-Info',
  'Event',
  'Expires',
  'From',
  'Identity',
  'Identity-Info',
  'In-Reply-To',
  'Max-Forwards',
  'MIME-Version',
  'Min-Expires',
  'Organization',
  'P-Asserted-Identity',
  'Path',
  'Priority',
  'Proxy-Authenticate',
  'Proxy-Authorization',
  'Proxy-Require',
  'RAck',
  'Reason',
  'Record-Route',
  'Refer-To',
  'Referred-By',
  'Reject-Contact',
  'Reply-To',
  'Request-Disposition',
  'Require',
  'Retry-After',
  'Route',
  'RSeq',
  'Server',
  'Session-Expires',
  'Subject',
  'Subscription-State',
  'Supported',
  'Timestamp',
  'To',
  'Unsupported',
  'User-Agent',
  'Via',
  'Warning',
  'WWW-Authenticate',
  'Min-SE',
  'Service-Route',
];

const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event',
  r: 'refer-to',
  u: 'allow-events',
  b: 'referred-by',
  x: 'session-expires',
  y: 'identity',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
  n: 'identity-info',
};

const DISPLAY = new Map<string, string>();
const LOWER = new Map<string, string>();
for (const name of CANONICAL) {
  const lower = name.toLowerCase();
  DISPLAY.set(lower, name);
  LOWER.set(lower, lower);
  LOWER.set(name, lower);
}
for (const [short, long] of Object.entries(COMPACT)) {
  LOWER.set(short, long);
  LOWER.set(short.toUpperCase(), long);
}

/**
 * Canonical spellings by length, tried by plain comparison before any hashing: received names
 * are fresh strings, and most are spelled exactly like this.
 */
const BY_LENGTH: Array<Array<[string, string]>> = [];
for (const name of CANONICAL) (BY_LENGTH[name.length] ??= []).push([name, name.toLowerCase()]);
for (const [short, long] of Object.entries(COMPACT)) {
  (BY_LENGTH[1] ??= []).push([short, long], [short.toUpperCase(), long]);
}

/** The lower-case long form of a header name (`v` and `VIA` both give `via`). */
export function normalizeHeaderName(name: string): string {
  const candidates = BY_LENGTH[name.length];
  if (candidates !== undefined) {
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]!;
      if (c[0] === name) return c[1];
    }
  }
  const hit = LOWER.get(name);
  if (hit !== undefined) return hit;
  const lower = name.toLowerCase();
  return LOWER.get(lower) ?? lower;
}

/** The spelling to serialize a normalized name with (`call-id` gives `Call-ID`). */
export function displayHeaderName(lower: string, original?: string): string {
  return DISPLAY.get(lower) ?? original ?? lower;
}

/**
 * Headers whose grammar allows a comma-separated list (RFC 3261 section 7.3.1). Others, notably
 * From, To, Call-ID, CSeq and the authentication headers, are single values where a comma is data.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via',
  'contact',
  'route',
  'record-route',
  'allow',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'content-encoding',
  'content-language',
  'allow-events',
  'path',
  'service-route',
  'warning',
  'in-reply-to',
  'alert-info',
  'call-info',
  'error-info',
  'reply-to',
  'p-asserted-identity',
]);
