/**
 * Short-lived access tokens: `base64url(claims).base64url(HMAC-SHA256)`, signed with a key kept in the
 * database so every process sharing it (server, CLI, other nodes) verifies the same tokens. A verified
 * token is still checked against its session and user on use, so revocation and disabling act at once.
 */
import { createHmac, randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { Role } from '@parley/protocol';

export interface AccessClaims {
  /** User id. */
  sub: string;
  /** Tenant id. */
  tid: string;
  /** Session id. */
  sid: string;
  role: Role;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export class TokenSigner {
  private constructor(private readonly key: Buffer) {}

  /** Loads the signing key, creating it once (the first process to start wins; others read it). */
  static async load(db: Kysely<Database>): Promise<TokenSigner> {
    const fresh = randomBytes(32).toString('base64url');
    await db
      .insertInto('settings')
      .values({ key: 'token_signing_key', value: fresh })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const row = await db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', 'token_signing_key')
      .executeTakeFirstOrThrow();
    return new TokenSigner(Buffer.from(row.value, 'base64url'));
  }

  sign(claims: AccessClaims): string {
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** The claims of a well-signed token (expired or not), or null. */
  verify(token: string): AccessClaims | null {
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 2048) return null;
    const body = token.slice(0, dot);
    // The signature's text is compared, not its decoded bytes: base64url decoding ignores a trailing
    // `=` and the spare low bits of the last character, so decoded bytes would accept several spellings
    // of one signature (RFC 4648 section 3.5: such encodings are not canonical).
    const mac = Buffer.from(token.slice(dot + 1), 'latin1');
    const expected = Buffer.from(this.mac(body), 'latin1');
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return null;
    try {
      const c = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as AccessClaims;
      if (
        typeof c.sub !== 'string' ||
        typeof c.tid !== 'string' ||
        typeof c.sid !== 'string' ||
        typeof c.exp !== 'number'
      )
        return null;
      return c;
    } catch {
      return null;
    }
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

/** An opaque random secret (refresh tokens, API keys). */
export const randomSecret = (bytes = 32) => randomBytes(bytes).toString('base64url');

/** Secrets are stored only as their SHA-256: high-entropy, so no slow hash is needed. */
export const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');
