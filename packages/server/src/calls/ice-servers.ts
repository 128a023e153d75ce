/**
 * ICE servers for a signed-in user: STUN, and short-lived TURN credentials so calls work behind
 * firewalls that block direct UDP. The credentials follow coturn's REST scheme ("TURN REST API",
 * draft-uberti-behave-turn-rest-00 section 2.2, coturn's `use-auth-secret`): the username is
 * `<expiry unix seconds>:<userId>`, the password base64(HMAC-SHA1(secret, username)). The TURN server
 * checks both with the shared secret and the expiry alone, so Parley stores nothing and the TURN server
 * needs no database; a leaked credential stops working at its expiry.
 */
import { createHmac } from 'node:crypto';
import { IceServersResponse, ParleyError } from '@parley/protocol';
import { defineRoute, type AnyRoute } from '../http/route.ts';

export interface IceServerSettings {
  /** `PARLEY_TURN_SECRET`; absent: no TURN entry. */
  turnSecret?: string | undefined;
  /** `PARLEY_TURN_URLS`. */
  turnUrls?: readonly string[] | undefined;
  /** `PARLEY_TURN_TTL`, seconds. */
  turnTtl: number;
  /** `PARLEY_STUN_URLS`. */
  stunUrls?: readonly string[] | undefined;
}

/** The TURN REST credential for `userId`, valid until `expiresAt` (ms). */
export function turnCredential(
  secret: string,
  userId: string,
  expiresAt: number,
): { username: string; credential: string } {
  const username = `${Math.floor(expiresAt / 1000)}:${userId}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

/** What `GET /api/calls/ice-servers` answers for `userId` at `now` (ms). */
export function iceServersFor(s: IceServerSettings, userId: string, now: number): IceServersResponse {
  const iceServers: IceServersResponse['iceServers'] = [];
  if (s.stunUrls?.length) iceServers.push({ urls: [...s.stunUrls] });
  if (!s.turnSecret || !s.turnUrls?.length) return { iceServers, expiresAt: null };
  const expiresAt = (Math.floor(now / 1000) + s.turnTtl) * 1000;
  iceServers.push({ urls: [...s.turnUrls], ...turnCredential(s.turnSecret, userId, expiresAt) });
  return { iceServers, expiresAt: new Date(expiresAt).toISOString() };
}

export function callRoutes(settings: IceServerSettings, now: () => number = Date.now): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/calls/ice-servers',
      tag: 'calls',
      summary: 'STUN and short-lived TURN credentials for RTCPeerConnection (coturn REST scheme)',
      access: 'user',
      response: IceServersResponse,
      handler: async ({ principal }) => {
        if (principal?.kind !== 'user')
          throw new ParleyError('forbidden', 'ICE servers are for signed-in users');
        return iceServersFor(settings, principal.id, now());
      },
    }),
  ];
}
