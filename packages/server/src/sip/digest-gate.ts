/**
 * Digest authentication of SIP requests from sources that are not carriers (RFC 3261 section 22,
 * RFC 8760 for SHA-256). Devices are trusted only this way, never by address.
 *
 * No user enumeration: a request without credentials gets the same challenge whoever it names
 * (407 with Proxy-Authenticate for INVITE and other requests, 401 with WWW-Authenticate for
 * REGISTER, RFC 3261 sections 22.2 and 22.3), and wrong credentials get 403 whether the user
 * exists or not. Each failure is reported to the peer policy, which blocks an address after
 * repeated ones (as fail2ban does); a success makes the source a device for a while.
 *
 * One DigestServer per realm (a tenant domain or our SIP address), all sharing one nonce key.
 */
import { randomBytes } from 'node:crypto';
import {
  type DigestAlgorithm,
  DigestServer,
  type HeaderValue,
  type Peer,
  type PeerPolicy,
  type SipRequest,
} from '@parley/sip';
import type { SipCredentials } from './peers.ts';

export type GateVerdict =
  { ok: true; username: string } | { ok: false; status: number; headers: Array<[string, HeaderValue]> };

export interface DigestGateOptions {
  credentials: SipCredentials;
  peers: Pick<PeerPolicy, 'authenticationFailed' | 'authenticated'>;
  /** How long a nonce is accepted, ms. */
  nonceLifetimeMs: number;
  /** Algorithms challenged with, most preferred first (default SHA-256 then MD5, RFC 8760). */
  algorithms?: DigestAlgorithm[];
  /** Told when a failure blocks an address (for the log). */
  onBlocked?(source: Peer): void;
}

/** Realms held at most; they are tenant domains, so this bounds only a bug, not an attack. */
const MAX_REALMS = 10_000;

export class DigestGate {
  private readonly realms = new Map<string, DigestServer>();
  private readonly secret = randomBytes(32);

  constructor(private readonly opts: DigestGateOptions) {}

  /** Authenticates `req` from `source` in `realm`; a failed verdict carries the answer to send. */
  async check(req: SipRequest, source: Peer, realm: string): Promise<GateVerdict> {
    const server = this.server(realm.toLowerCase());
    const registrar = req.method === 'REGISTER';
    const verdict = await server.verify(req, this.opts.credentials.secret, !registrar);
    if (verdict.ok) {
      this.opts.peers.authenticated(source);
      return verdict;
    }
    switch (verdict.reason) {
      case 'missing':
      case 'realm':
      case 'stale':
      // A right answer to a nonce-count already used: a client reusing its last Authorization
      // without counting up (SIP.js does on un-REGISTER), or a replay. A fresh nonce (stale=true)
      // lets the first answer again, and the second still needs the password; no failure counted.
      case 'replay': {
        const header = registrar ? 'WWW-Authenticate' : 'Proxy-Authenticate';
        return {
          ok: false,
          status: registrar ? 401 : 407,
          headers: server
            .challenge(verdict.reason === 'stale' || verdict.reason === 'replay')
            .map((c): [string, HeaderValue] => [header, c]),
        };
      }
      case 'malformed':
        return { ok: false, status: 400, headers: [] };
      case 'unknown-user':
      case 'wrong':
        if (this.opts.peers.authenticationFailed(source)) this.opts.onBlocked?.(source);
        return { ok: false, status: 403, headers: [] };
    }
  }

  private server(realm: string): DigestServer {
    let s = this.realms.get(realm);
    if (!s) {
      if (this.realms.size >= MAX_REALMS) this.realms.clear();
      s = new DigestServer({
        realm,
        secret: this.secret,
        nonceLifetimeMs: this.opts.nonceLifetimeMs,
        algorithms: this.opts.algorithms,
      });
      this.realms.set(realm, s);
    }
    return s;
  }
}
