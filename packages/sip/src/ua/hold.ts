/**
 * The default answer to an offer inside a session (RFC 3264 sections 6.1 and 8.4): our current
 * description with each stream's direction mirrored (sendonly -> recvonly, recvonly -> sendonly,
 * inactive stays inactive), so a peer putting us on hold gets a valid answer without the
 * application. The origin's version goes up by one (RFC 3264 section 8).
 */
import { parseSdp, writeSdp } from '../sdp.ts';

type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
const MIRROR: Record<Direction, Direction> = {
  sendrecv: 'sendrecv',
  sendonly: 'recvonly',
  recvonly: 'sendonly',
  inactive: 'inactive',
};

/** Our description answering `offer`, or 488 when it cannot be read. */
export function answerOfferByDirection(local: Buffer, offer: Buffer): Buffer | { status: number } {
  try {
    const o = parseSdp(offer.toString('utf8'));
    const l = parseSdp(local.toString('utf8'));
    const sessionDir = (o.direction as Direction | undefined) ?? 'sendrecv';
    delete l.direction;
    l.media.forEach((m, i) => {
      const dir = (o.media[i]?.direction as Direction | undefined) ?? sessionDir;
      m.direction = MIRROR[dir];
    });
    if (l.origin) l.origin.sessionVersion = Number(l.origin.sessionVersion) + 1;
    return Buffer.from(writeSdp(l));
  } catch {
    return { status: 488 };
  }
}

/** The direction of a description's first stream (for tests and applications). */
export function directionOf(sdp: Buffer | string): Direction {
  const d = parseSdp(sdp.toString());
  return ((d.media[0]?.direction ?? d.direction) as Direction | undefined) ?? 'sendrecv';
}
