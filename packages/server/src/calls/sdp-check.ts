/**
 * SDP checks at the edge: an offer or answer that WebRTC cannot use is refused with `invalid_sdp` before
 * it reaches a call, so a broken client never moves a call (nor leaves the other side holding an
 * unusable description). The server does not negotiate media; it checks what every WebRTC peer needs:
 * - the description parses (RFC 8866 section 5) and has at least one media line (`m=`);
 * - ICE credentials, `a=ice-ufrag` and `a=ice-pwd` (RFC 8839 section 5.4), at session level or on every
 *   media line that is not rejected (port 0);
 * - a DTLS fingerprint, `a=fingerprint` (RFC 8122 section 5), at session level or on every such media
 *   line: WebRTC media are always DTLS-SRTP (RFC 8827 section 6.5);
 * - the type the frame needs (`call.place` carries an offer, `call.answer` an answer).
 */
import { parse } from 'sdp-transform';
import { ParleyError, type SessionDescription } from '@parley/protocol';

/** Throws `invalid_sdp` (naming `field`) unless `d` is a usable WebRTC description of type `type`. */
export function checkSdp(d: SessionDescription, field: string, type?: 'offer' | 'answer'): void {
  const bad = (why: string) => new ParleyError('invalid_sdp', `${field}: ${why}`, { field });
  if (type && d.type !== type) throw bad(`must be an ${type}, not an ${d.type}`);
  let s: ReturnType<typeof parse>;
  try {
    s = parse(d.sdp);
  } catch {
    throw bad('does not parse as SDP');
  }
  if (s.version !== 0 || !s.origin) throw bad('lacks the v= and o= lines of an SDP session description');
  const media = s.media ?? [];
  if (media.length === 0) throw bad('has no media line (m=)');
  for (const [i, m] of media.entries()) {
    if (!m.type || !m.protocol || !Number.isInteger(m.port))
      throw bad(`media line ${i} does not parse (m=<media> <port> <proto> <fmt>)`);
    if (m.port === 0) continue; // rejected or stopped: no transport needed
    if (!(m.iceUfrag ?? s.iceUfrag) || !(m.icePwd ?? s.icePwd))
      throw bad(`media line ${i} (${m.type}) lacks ICE credentials (a=ice-ufrag and a=ice-pwd)`);
    if (!(m.fingerprint ?? s.fingerprint)?.hash)
      throw bad(`media line ${i} (${m.type}) lacks a DTLS fingerprint (a=fingerprint)`);
  }
}
