/**
 * Who is calling, as carriers write it (issue 19 item 4).
 *
 * Calls out: the caller's number in the carrier's `callerIdFormat`, in From and in the identity header
 * the carrier reads (`identity`):
 * - `pai`: P-Asserted-Identity (RFC 3325), what carriers trusting our address expect;
 * - `rpid`: Remote-Party-ID (draft-ietf-sip-privacy-04, as older SBCs and Asterisk's `sendrpid`
 *   want: `;party=calling;screen=yes;privacy=off|full`);
 * - `none`: From alone.
 * A withheld number (the user's setting, or a prefix such as `*67` on one call) leaves From anonymous
 * (RFC 3323 section 4.1.1.3, `sip:anonymous@anonymous.invalid`) and asks `Privacy: id`, but the
 * asserted identity still carries the number: the carrier needs it to bill the call and to answer
 * an emergency, and strips it before the called party (that is what Privacy asks of it). A caller
 * without a number calls as anonymous, with `Privacy: id`.
 * A forwarded call (a later issue's forwarding sets `divertedFrom`) carries Diversion (RFC 5806): the
 * number the call was first made to, with the reason.
 *
 * Calls in: the caller read from P-Asserted-Identity, else Remote-Party-ID, else From; `Privacy: id`
 * (or RPID's `privacy=full`) means the callee is shown no number; Diversion gives the number first
 * dialled. Malformed headers are ignored, never fatal.
 */
import { parsePhoneNumberWithError } from 'libphonenumber-js/max';
import { parseNameAddr, type NameAddr, type SipRequest } from '@parley/sip';
import type { CallerIdFormat, IdentityHeader } from './carriers.ts';

/** Why a call was forwarded, as Diversion's `reason` says it (RFC 5806 section 3). */
export type DiversionReason = 'unconditional' | 'user-busy' | 'no-answer' | 'unavailable';

export interface OutboundIdentityInput {
  identity: IdentityHeader;
  callerIdFormat: CallerIdFormat;
  /** The caller's own number in E.164, or null. */
  callerNumber: string | null;
  withheld: boolean;
  /** Host of our URIs (`PARLEY_SIP_ADDRESS`). */
  localHost: string;
  /** A forwarded call: the number first called, and why it was forwarded. */
  divertedFrom?: { number: string; reason: DiversionReason };
}

export interface OutboundIdentity {
  /** The From URI. */
  from: string;
  headers: Array<[string, string]>;
}

export const ANONYMOUS_URI = 'sip:anonymous@anonymous.invalid';

/** From and the identity headers of a call out to a carrier. */
export function outboundIdentity(o: OutboundIdentityInput): OutboundIdentity {
  const headers: Array<[string, string]> = [];
  const callerId = o.callerNumber && formatForCarrier(o.callerNumber, o.callerIdFormat);
  const own = callerId ? `sip:${callerId}@${o.localHost}` : null;
  const hidden = o.withheld || own === null;
  if (own && o.identity === 'pai') headers.push(['P-Asserted-Identity', `<${own}>`]);
  if (own && o.identity === 'rpid')
    headers.push(['Remote-Party-ID', `<${own}>;party=calling;screen=yes;privacy=${hidden ? 'full' : 'off'}`]);
  if (hidden) headers.push(['Privacy', 'id']);
  if (o.divertedFrom) {
    const n = formatForCarrier(o.divertedFrom.number, o.callerIdFormat);
    headers.push(['Diversion', `<sip:${n}@${o.localHost}>;reason=${o.divertedFrom.reason};counter=1`]);
  }
  return { from: hidden ? ANONYMOUS_URI : own!, headers };
}

/** `e164` as the carrier wants to read it: `+447700900123`, `447700900123` or `07700900123`. */
export function formatForCarrier(e164: string, format: CallerIdFormat): string {
  if (format === 'e164') return e164;
  if (format === 'e164_no_plus') return e164.slice(1);
  try {
    return parsePhoneNumberWithError(e164)
      .formatNational()
      .replace(/[^0-9]/g, '');
  } catch {
    return e164;
  }
}

/**
 * A withholding prefix at the start of what was typed (`*67 020 7946 0999`): the number without it,
 * and whether one was there. Only the first matching prefix is taken.
 */
export function withholdPrefix(
  typed: string,
  prefixes: readonly string[],
): { rest: string; withheld: boolean } {
  const t = typed.trim();
  // Longest first, so `*67` is not read as `*6` then `7`.
  for (const p of [...prefixes].sort((a, b) => b.length - a.length))
    if (t.startsWith(p) && t.length > p.length) return { rest: t.slice(p.length).trim(), withheld: true };
  return { rest: typed, withheld: false };
}

/** The identity headers of a call in, parsed: each null when absent or malformed. */
export interface InboundIdentity {
  asserted: NameAddr | null;
  /** The Remote-Party-ID naming the calling party, and whether it asks for privacy. */
  rpid: { addr: NameAddr; private: boolean } | null;
  /** `Privacy: id` or `header`/`user` (RFC 3323 section 4.2), or RPID's `privacy=full|name|uri`. */
  withheld: boolean;
  /** Diversion's first entry (the number first dialled), its URI's user part as sent. */
  diversion: NameAddr | null;
}

function nameAddr(value: string | undefined, header: string): NameAddr | null {
  if (value === undefined) return null;
  try {
    return parseNameAddr(value, header);
  } catch {
    return null;
  }
}

/** Reads PAI, RPID, Privacy and Diversion of a carrier's INVITE. */
export function inboundIdentity(req: SipRequest): InboundIdentity {
  const asserted = nameAddr(req.values('p-asserted-identity')[0], 'P-Asserted-Identity');
  let rpid: InboundIdentity['rpid'] = null;
  for (const v of req.values('remote-party-id')) {
    const addr = nameAddr(v, 'Remote-Party-ID');
    if (!addr) continue;
    const party = paramOf(v, 'party');
    if (party !== null && party.toLowerCase() !== 'calling') continue;
    const privacy = (paramOf(v, 'privacy') ?? 'off').toLowerCase();
    rpid = { addr, private: privacy !== 'off' };
    break;
  }
  const privacy = req
    .values('privacy')
    .flatMap((v) => v.split(';'))
    .map((t) => t.trim().toLowerCase());
  const withheld =
    privacy.some((t) => t === 'id' || t === 'user' || t === 'header') || rpid?.private === true;
  const diversion = nameAddr(req.values('diversion')[0], 'Diversion');
  return { asserted, rpid, withheld, diversion };
}

/** A header parameter after the name-addr's `>` (`;privacy=full`), lower-cased name, or null. */
function paramOf(value: string, name: string): string | null {
  const close = value.lastIndexOf('>');
  const params = (close >= 0 ? value.slice(close + 1) : value).split(';').slice(1);
  for (const p of params) {
    const [k, v] = p.split('=');
    if (k?.trim().toLowerCase() === name) return (v ?? '').trim().replace(/^"|"$/g, '');
  }
  return null;
}
