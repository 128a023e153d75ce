/**
 * HTTP Digest authentication for SIP (RFC 3261 section 22.4, RFC 2617, RFC 7616 for the
 * algorithms, RFC 8760 for SHA-256 in SIP): qop=auth with MD5 and SHA-256, server side (challenge,
 * verification, nonce expiry, replay protection by nonce-count) and client side (answer a
 * challenge).
 *
 * Nonces are stateless to issue (timestamp, random, HMAC), so a flood of challenges costs no
 * memory; only nonces that are used are remembered, with their highest nonce-count, until they
 * expire, in a bounded table.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import type { SipRequest } from './message.ts';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

function hash(alg: DigestAlgorithm, s: string): string {
  return createHash(alg === 'MD5' ? 'md5' : 'sha256')
    .update(s, 'utf8')
    .digest('hex');
}

/** Parses `Digest a=b, c="d"` (RFC 7235 auth-param list). Returns undefined for other schemes. */
export function parseDigestParams(value: string): Record<string, string> | undefined {
  const m = /^\s*Digest\s+/i.exec(value);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/gy;
  re.lastIndex = m[0].length;
  let guard = 0;
  while (re.lastIndex < value.length && guard++ < 64) {
    const p = re.exec(value);
    if (!p) return undefined;
    out[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  }
  return out;
}

function q(s: string): string {
  return '"' + s.replace(/["\\]/g, '\\$&') + '"';
}

/** Computes the digest response (RFC 2617 section 3.2.2.1, RFC 7616 section 3.4.1). */
export function digestResponse(p: {
  algorithm: DigestAlgorithm;
  sess?: boolean;
  username: string;
  realm: string;
  password?: string;
  /** H(username:realm:password), when the password itself is not stored. */
  ha1?: string;
  method: string;
  uri: string;
  nonce: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
}): string {
  let ha1 = p.ha1 ?? hash(p.algorithm, `${p.username}:${p.realm}:${p.password ?? ''}`);
  if (p.sess) ha1 = hash(p.algorithm, `${ha1}:${p.nonce}:${p.cnonce ?? ''}`);
  const ha2 = hash(p.algorithm, `${p.method}:${p.uri}`);
  return p.qop
    ? hash(p.algorithm, `${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`)
    : hash(p.algorithm, `${ha1}:${p.nonce}:${ha2}`);
}

/** H(username:realm:password), what a server may store instead of passwords. */
export function digestHa1(
  algorithm: DigestAlgorithm,
  username: string,
  realm: string,
  password: string,
): string {
  return hash(algorithm, `${username}:${realm}:${password}`);
}

// ---------------------------------------------------------------------------------------------
// Client side

export interface DigestCredentials {
  username: string;
  password: string;
}

/** Per-nonce counter a client keeps so repeated use of one nonce increments nc. */
const clientCounts = new Map<string, number>();

/**
 * Answers a `WWW-Authenticate` or `Proxy-Authenticate` challenge for `method` and `uri`; returns
 * the `Authorization` / `Proxy-Authorization` value, or undefined when the challenge is not a
 * Digest challenge with an algorithm and qop we support.
 */
export function answerChallenge(
  challenge: string,
  creds: DigestCredentials,
  method: string,
  uri: string,
): string | undefined {
  const c = parseDigestParams(challenge);
  if (!c || c.realm === undefined || c.nonce === undefined) return undefined;
  const algRaw = (c.algorithm ?? 'MD5').toUpperCase();
  const sess = algRaw.endsWith('-SESS');
  const base = sess ? algRaw.slice(0, -5) : algRaw;
  if (base !== 'MD5' && base !== 'SHA-256') return undefined;
  const algorithm = base as DigestAlgorithm;
  const qops = (c.qop ?? '').split(',').map((s) => s.trim().toLowerCase());
  const qop = c.qop === undefined ? undefined : qops.includes('auth') ? 'auth' : undefined;
  if (c.qop !== undefined && qop === undefined) return undefined; // auth-int only
  const cnonce = randomBytes(8).toString('hex');
  const n = (clientCounts.get(c.nonce) ?? 0) + 1;
  if (clientCounts.size > 1000) clientCounts.clear();
  clientCounts.set(c.nonce, n);
  const nc = n.toString(16).padStart(8, '0');
  const response = digestResponse({
    algorithm,
    sess,
    username: creds.username,
    realm: c.realm,
    password: creds.password,
    method,
    uri,
    nonce: c.nonce,
    qop,
    nc,
    cnonce,
  });
  let out = `Digest username=${q(creds.username)}, realm=${q(c.realm)}, nonce=${q(c.nonce)}, uri=${q(uri)}, response=${q(response)}, algorithm=${algRaw}`;
  if (qop) out += `, qop=${qop}, nc=${nc}, cnonce=${q(cnonce)}`;
  if (c.opaque !== undefined) out += `, opaque=${q(c.opaque)}`;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Server side

export interface DigestServerOptions {
  realm: string;
  /** Algorithms to challenge with, most preferred first (RFC 8760: SHA-256 before MD5). */
  algorithms?: DigestAlgorithm[];
  /** How long a nonce is accepted. Default 5 minutes. */
  nonceLifetimeMs?: number;
  /** Used nonces remembered at most; beyond it fresh nonces are answered `stale`. Default 100,000. */
  maxTrackedNonces?: number;
  /** Key for nonce HMACs; random per process by default. */
  secret?: Buffer;
  clock?: Clock;
}

export type DigestVerdict =
  | { ok: true; username: string }
  | { ok: false; reason: 'missing' | 'malformed' | 'unknown-user' | 'stale' | 'replay' | 'wrong' | 'realm' };

/** What the server needs per user: the password or an HA1 for each algorithm. */
export type DigestSecretLookup = (
  username: string,
  realm: string,
) => Promise<{ password: string } | { ha1: Partial<Record<DigestAlgorithm, string>> } | undefined>;

export class DigestServer {
  readonly realm: string;
  private readonly algorithms: DigestAlgorithm[];
  private readonly lifetime: number;
  private readonly maxTracked: number;
  private readonly secret: Buffer;
  private readonly clock: Clock;
  /** Used nonces: highest nonce-count seen and expiry. */
  private readonly used = new Map<string, { nc: number; expires: number }>();
  private readonly epoch = Date.now() - performance.now();

  constructor(opts: DigestServerOptions) {
    this.realm = opts.realm;
    this.algorithms = opts.algorithms ?? ['SHA-256', 'MD5'];
    this.lifetime = opts.nonceLifetimeMs ?? 300_000;
    this.maxTracked = opts.maxTrackedNonces ?? 100_000;
    this.secret = opts.secret ?? randomBytes(32);
    this.clock = opts.clock ?? systemClock;
  }

  private nowMs(): number {
    return Math.floor(this.clock === systemClock ? this.epoch + this.clock.now() : this.clock.now());
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url').slice(0, 22);
  }

  /** A fresh nonce: issue time, randomness and an HMAC over both. */
  newNonce(): string {
    const payload = `${this.nowMs().toString(36)}.${randomBytes(9).toString('base64url')}`;
    return `${payload}.${this.mac(payload)}`;
  }

  /** Issue time of a nonce we made, or undefined for a forged or foreign one. */
  private nonceTime(nonce: string): number | undefined {
    const i = nonce.lastIndexOf('.');
    if (i < 0) return undefined;
    const payload = nonce.slice(0, i);
    const mac = Buffer.from(nonce.slice(i + 1));
    const want = Buffer.from(this.mac(payload));
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) return undefined;
    const t = parseInt(payload.slice(0, payload.indexOf('.')), 36);
    return Number.isFinite(t) ? t : undefined;
  }

  /** `WWW-Authenticate` (or `Proxy-Authenticate`) values, one per algorithm (RFC 8760 section 2.4). */
  challenge(stale = false): string[] {
    const nonce = this.newNonce();
    return this.algorithms.map(
      (a) =>
        `Digest realm=${q(this.realm)}, nonce=${q(nonce)}, algorithm=${a}, qop="auth"${stale ? ', stale=true' : ''}`,
    );
  }

  /**
   * Verifies the request's `Authorization` (or `Proxy-Authorization` with `proxy`) credentials for
   * this realm (RFC 3261 section 22.4; RFC 2617 section 3.2.2). A `stale` verdict means the
   * password was right but the nonce expired: challenge again with stale=true.
   */
  async verify(req: SipRequest, lookup: DigestSecretLookup, proxy = false): Promise<DigestVerdict> {
    const values = req.getAll(proxy ? 'proxy-authorization' : 'authorization');
    let p: Record<string, string> | undefined;
    for (const v of values) {
      const parsed = parseDigestParams(v);
      if (parsed && parsed.realm === this.realm) {
        p = parsed;
        break;
      }
      if (parsed) p ??= parsed;
    }
    if (!p) return { ok: false, reason: 'missing' };
    if (p.realm !== this.realm) return { ok: false, reason: 'realm' };
    const { username, nonce, uri, response } = p;
    if (!username || !nonce || !uri || !response) return { ok: false, reason: 'malformed' };
    const algRaw = (p.algorithm ?? 'MD5').toUpperCase();
    if (algRaw !== 'MD5' && algRaw !== 'SHA-256') return { ok: false, reason: 'malformed' };
    const algorithm = algRaw as DigestAlgorithm;
    if (!this.algorithms.includes(algorithm)) return { ok: false, reason: 'malformed' };
    if ((p.qop ?? '').toLowerCase() !== 'auth' || !p.nc || !p.cnonce || !/^[0-9a-fA-F]{8}$/.test(p.nc)) {
      return { ok: false, reason: 'malformed' };
    }
    const issued = this.nonceTime(nonce);
    if (issued === undefined) return { ok: false, reason: 'stale' };
    const secret = await lookup(username, this.realm);
    if (!secret) return { ok: false, reason: 'unknown-user' };
    const ha1 = 'password' in secret ? undefined : secret.ha1[algorithm];
    if (!('password' in secret) && ha1 === undefined) return { ok: false, reason: 'unknown-user' };
    const expected = digestResponse({
      algorithm,
      username,
      realm: this.realm,
      method: req.method,
      uri,
      nonce,
      qop: 'auth',
      nc: p.nc,
      cnonce: p.cnonce,
      ...('password' in secret ? { password: secret.password } : { ha1 }),
    });
    const a = Buffer.from(expected);
    const b = Buffer.from(response.toLowerCase());
    if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, reason: 'wrong' };
    const now = this.nowMs();
    if (now - issued > this.lifetime) return { ok: false, reason: 'stale' };
    // Replay protection: the nonce-count must grow for every use of a nonce (RFC 2617 3.2.2).
    const nc = parseInt(p.nc, 16);
    const seen = this.used.get(nonce);
    if (seen && nc <= seen.nc) return { ok: false, reason: 'replay' };
    if (!seen) {
      if (this.used.size >= this.maxTracked) this.sweep(now);
      if (this.used.size >= this.maxTracked) return { ok: false, reason: 'stale' };
      this.used.set(nonce, { nc, expires: issued + this.lifetime });
    } else seen.nc = nc;
    return { ok: true, username };
  }

  private sweep(now: number): void {
    for (const [k, v] of this.used) if (v.expires < now) this.used.delete(k);
  }

  /** Nonces currently remembered (bounded by maxTrackedNonces). */
  get trackedNonces(): number {
    return this.used.size;
  }
}
