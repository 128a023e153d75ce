/**
 * SDP checks at the edge: an offer or answer that WebRTC cannot use is refused with `invalid_sdp` before
 * it reaches a call, so a broken client never moves a call (nor leaves the other side holding an
 * unusable description). The server does not negotiate media; it checks what every WebRTC peer needs:
 * - the description has `v=0` and an `o=` line (RFC 8866 section 5) and at least one media line (`m=`);
 * - ICE credentials, `a=ice-ufrag` and `a=ice-pwd` (RFC 8839 section 5.4), at session level or on every
 *   media line that is not rejected (port 0);
 * - a DTLS fingerprint, `a=fingerprint` (RFC 8122 section 5), at session level or on every such media
 *   line: WebRTC media are always DTLS-SRTP (RFC 8827 section 6.5);
 * - the type the frame needs (`call.place` carries an offer, `call.answer` an answer).
 *
 * Why one pass of its own: a full sdp-transform parse runs some sixty attribute patterns over every
 * line and builds objects for all of them (rtpmap, fmtp, candidates...), about a tenth of a call's
 * server CPU in bench/call-setup, to read five of them. This pass reads only the lines the checks need,
 * with sdp-transform's own patterns and its rules (a line belongs to the last `m=` before it, or to the
 * session; the last of a repeated attribute counts; values go through its number conversion), so it
 * accepts and refuses exactly what the parse did: test/calls/sdp-check.test.ts compares the two on
 * thousands of mutated descriptions.
 */
import { ParleyError, type SessionDescription } from '@parley/protocol';

/** Where a line's attributes go (sdp-transform's "location"): the session, or one media section. */
interface Place {
  version?: unknown;
  origin?: boolean;
  iceUfrag?: unknown;
  icePwd?: unknown;
  /** `a=fingerprint`'s hash, once a fingerprint line matched (`fingerprint` is then set). */
  fingerprint?: { hash: unknown };
  type?: unknown;
  port?: unknown;
  protocol?: unknown;
}

// sdp-transform's grammar patterns for the lines read here (lib/grammar.js).
const LINE = /\r\n|\r|\n/;
const VERSION = /^(\d*)$/;
const ORIGIN = /^(\S*) (\d*) (\d*) (\S*) IP(\d) (\S*)/;
const MEDIA = /^(\w*) (\d*) ([\w/]*)(?: (.*))?/;
const UFRAG = /^ice-ufrag:(\S*)/;
const PWD = /^ice-pwd:(\S*)/;
const FINGERPRINT = /^fingerprint:(\S*) (\S*)/;

/** sdp-transform's value conversion: a string that is a number's canonical form becomes that number. */
const toIntIfInt = (v: string): unknown => (String(Number(v)) === v ? Number(v) : v);

/** Throws `invalid_sdp` (naming `field`) unless `d` is a usable WebRTC description of type `type`. */
export function checkSdp(d: SessionDescription, field: string, type?: 'offer' | 'answer'): void {
  const bad = (why: string) => new ParleyError('invalid_sdp', `${field}: ${why}`, { field });
  if (type && d.type !== type) throw bad(`must be an ${type}, not an ${d.type}`);
  const s: Place = {};
  const media: Place[] = [];
  let at = s;
  for (const line of d.sdp.split(LINE)) {
    // Lines of the form `<letter>=`; anything else is skipped, as the parse skips it.
    const letter = line.charCodeAt(0);
    if (letter < 97 || letter > 122 || line.charCodeAt(1) !== 61) continue;
    const content = line.slice(2);
    switch (letter) {
      case 118: // v
        if (VERSION.test(content)) at.version = toIntIfInt(content);
        break;
      case 111: // o
        if (ORIGIN.test(content)) at.origin = true;
        break;
      case 109: {
        // m
        media.push((at = {}));
        const m = MEDIA.exec(content);
        if (m) {
          at.type = toIntIfInt(m[1]!);
          at.port = toIntIfInt(m[2]!);
          at.protocol = toIntIfInt(m[3]!);
        }
        break;
      }
      case 97: {
        // a: the three attributes read; their patterns cannot match another attribute's line
        let m: RegExpExecArray | null;
        if ((m = UFRAG.exec(content))) at.iceUfrag = toIntIfInt(m[1]!);
        else if ((m = PWD.exec(content))) at.icePwd = toIntIfInt(m[1]!);
        else if ((m = FINGERPRINT.exec(content))) at.fingerprint = { hash: toIntIfInt(m[2]!) };
        break;
      }
    }
  }
  if (s.version !== 0 || !s.origin) throw bad('lacks the v= and o= lines of an SDP session description');
  if (media.length === 0) throw bad('has no media line (m=)');
  for (const [i, m] of media.entries()) {
    if (!m.type || !m.protocol || !Number.isInteger(m.port))
      throw bad(`media line ${i} does not parse (m=<media> <port> <proto> <fmt>)`);
    if (m.port === 0) continue; // rejected or stopped: no transport needed
    if (!(m.iceUfrag ?? s.iceUfrag) || !(m.icePwd ?? s.icePwd))
      throw bad(`media line ${i} (${String(m.type)}) lacks ICE credentials (a=ice-ufrag and a=ice-pwd)`);
    if (!(m.fingerprint ?? s.fingerprint)?.hash)
      throw bad(`media line ${i} (${String(m.type)}) lacks a DTLS fingerprint (a=fingerprint)`);
  }
}
