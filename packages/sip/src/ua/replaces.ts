/**
 * The Replaces header (RFC 3891 section 6.1): `callid;to-tag=T;from-tag=F[;early-only]`, which
 * names a dialog an INVITE takes the place of (attended transfer, call pickup), and its carriage
 * inside a Refer-To URI as the `Replaces` URI header (RFC 3891 section 5, RFC 3515).
 * The tags are as the receiver of the INVITE sees them: to-tag is its local tag, from-tag its
 * remote tag (section 3).
 */
import type { NameAddr } from '../address.ts';
import { isSipUri } from '../uri.ts';

export interface Replaces {
  callId: string;
  toTag: string;
  fromTag: string;
  /** Replace only an early dialog (section 6.1); a confirmed one gets 486. */
  earlyOnly: boolean;
}

/** Parses a Replaces value; undefined when the Call-ID or either tag is missing. */
export function parseReplaces(value: string): Replaces | undefined {
  const parts = value.split(';').map((p) => p.trim());
  const callId = parts[0];
  if (!callId) return undefined;
  let toTag: string | undefined;
  let fromTag: string | undefined;
  let earlyOnly = false;
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? '' : p.slice(eq + 1).trim();
    if (name === 'to-tag') toTag = v;
    else if (name === 'from-tag') fromTag = v;
    else if (name === 'early-only') earlyOnly = true;
  }
  if (!toTag || !fromTag) return undefined;
  return { callId, toTag, fromTag, earlyOnly };
}

export function formatReplaces(r: Replaces): string {
  return `${r.callId};to-tag=${r.toTag};from-tag=${r.fromTag}${r.earlyOnly ? ';early-only' : ''}`;
}

/** The Replaces carried in a Refer-To URI (`<sip:b@h?Replaces=...>`), parsed. */
export function replacesInReferTo(referTo: NameAddr): Replaces | undefined {
  const uri = referTo.uri;
  if (!isSipUri(uri)) return undefined;
  const h = uri.headers.find(([k]) => k.toLowerCase() === 'replaces');
  return h ? parseReplaces(h[1]) : undefined;
}
