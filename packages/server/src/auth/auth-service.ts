/**
 * Sign-in, refresh sessions, sign-out and request authentication.
 *
 * Access tokens are short-lived and carry their session id; every authenticated request checks the
 * session is live and the user enabled (one indexed join), so sign-out, revocation and disabling act
 * at once, across processes. Refresh tokens rotate on every use.
 */
import type { Kysely } from 'kysely';
import { ParleyError, type LoginResponse } from '@parley/protocol';
import type { Database } from '../storage/schema.ts';
import type { StorageHandle } from '../storage/db.ts';
import type { Config } from '../config.ts';
import type { Bus } from '../bus/bus.ts';
import { newId, iso } from '../ids.ts';
import { toUser, type Directory } from '../directory/directory.ts';
import { hashPassword, verifyPassword } from '../credentials/passwords.ts';
import { TokenSigner, randomSecret, sha256 } from './tokens.ts';
import { SignInThrottle } from './sign-in-throttle.ts';
import type { ClientInfo, Principal } from './principal.ts';

const API_KEY_PREFIX = 'pk_';

export class AuthService {
  private readonly throttle: SignInThrottle;
  private readonly db: Kysely<Database>;
  private readonly write: StorageHandle['write'];

  constructor(
    storage: StorageHandle,
    private readonly directory: Directory,
    private readonly signer: TokenSigner,
    private readonly bus: Bus,
    private readonly cfg: Pick<
      Config,
      | 'accessTokenTtl'
      | 'refreshTokenTtl'
      | 'loginFreeFailures'
      | 'loginDelayBaseMs'
      | 'loginDelayMax'
      | 'loginMaxPerAddress'
      | 'loginWindow'
    >,
  ) {
    this.db = storage.db;
    this.write = storage.write;
    this.throttle = new SignInThrottle({
      freeFailures: cfg.loginFreeFailures,
      delayBaseMs: cfg.loginDelayBaseMs,
      delayMaxMs: cfg.loginDelayMax * 1000,
      maxPerAddress: cfg.loginMaxPerAddress,
      windowMs: cfg.loginWindow * 1000,
    });
  }

  static hashPassword = hashPassword;

  async login(address: string, password: string, client: ClientInfo): Promise<LoginResponse> {
    const account = address.toLowerCase();
    const source = client.sourceAddress ?? '?';
    const wait = this.throttle.retryAfter(account, source);
    if (wait > 0)
      throw new ParleyError('rate_limited', 'too many failed sign-ins; try again later', {
        retryAfter: wait,
      });

    const user = await this.directory.findUserRecordByAddress(address);
    const ok = await verifyPassword(user?.password_hash ?? null, password);
    if (!user || !ok || user.enabled !== 1) {
      this.throttle.fail(account, source);
      throw new ParleyError('invalid_credentials', 'address or password is wrong');
    }
    this.throttle.succeed(account, source);
    // Told only to someone who knows the password: a suspension is no secret from the tenant's people.
    await this.assertTenantActive(user.tenant_id);
    return this.openSession(user.id, user.tenant_id, client);
  }

  /** Refuses with `tenant_suspended` when the operator suspended the tenant. */
  private async assertTenantActive(tenantId: string): Promise<void> {
    const t = await this.db
      .selectFrom('tenants')
      .select('suspended_at')
      .where('id', '=', tenantId)
      .executeTakeFirst();
    if (t && t.suspended_at !== null) throw suspendedError();
  }

  private async openSession(userId: string, tenantId: string, client: ClientInfo): Promise<LoginResponse> {
    const refreshToken = randomSecret();
    const now = Date.now();
    const sessionId = newId('ses');
    await this.db
      .insertInto('auth_sessions')
      .values({
        id: sessionId,
        user_id: userId,
        tenant_id: tenantId,
        refresh_hash: sha256(refreshToken),
        created_at: now,
        expires_at: now + this.cfg.refreshTokenTtl * 1000,
        revoked_at: null,
        source_address: client.sourceAddress,
        user_agent: client.userAgent?.slice(0, 300) ?? null,
      })
      .execute();
    const user = (await this.directory.findUserRecordById(userId))!;
    return {
      accessToken: this.accessToken(userId, tenantId, sessionId, user.role),
      refreshToken,
      expiresIn: this.cfg.accessTokenTtl,
      user: toUser(user),
    };
  }

  private accessToken(userId: string, tenantId: string, sessionId: string, role: Principal['role']): string {
    return this.signer.sign({
      sub: userId,
      tid: tenantId,
      sid: sessionId,
      role,
      exp: Math.floor(Date.now() / 1000) + this.cfg.accessTokenTtl,
    });
  }

  /**
   * Exchanges a refresh token for new tokens; the old refresh token stops working (rotation). A token
   * already rotated away that comes back means two parties hold the session (a thief and its owner):
   * the whole session ends, the newest tokens and open connections included (OAuth 2.0 Security BCP,
   * RFC 9700 section 4.14.2). Two refreshes racing with one token count as reuse too.
   */
  async refresh(refreshToken: string): Promise<LoginResponse> {
    const now = Date.now();
    const presented = sha256(refreshToken);
    const row = await this.db
      .selectFrom('auth_sessions')
      .innerJoin('users', 'users.id', 'auth_sessions.user_id')
      .innerJoin('tenants', 'tenants.id', 'users.tenant_id')
      .select([
        'auth_sessions.id as sid',
        'auth_sessions.expires_at',
        'auth_sessions.revoked_at',
        'users.id as uid',
        'users.tenant_id',
        'users.enabled',
        'users.role',
        'tenants.suspended_at',
      ])
      .where('auth_sessions.refresh_hash', '=', presented)
      .executeTakeFirst();
    if (!row) {
      const spent = await this.db
        .selectFrom('auth_refresh_spent')
        .select('session_id')
        .where('refresh_hash', '=', presented)
        .executeTakeFirst();
      if (spent) await this.revokeSession(spent.session_id);
      throw new ParleyError('session_revoked', 'refresh token is not valid');
    }
    if (row.revoked_at !== null || row.expires_at <= now)
      throw new ParleyError('session_revoked', 'refresh token is not valid');
    if (row.enabled !== 1) throw new ParleyError('user_disabled', 'this account is disabled');
    if (row.suspended_at !== null) throw suspendedError();
    const next = randomSecret();
    const res = await this.db
      .updateTable('auth_sessions')
      .set({ refresh_hash: sha256(next) })
      .where('id', '=', row.sid)
      .where('refresh_hash', '=', presented)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) {
      await this.revokeSession(row.sid);
      throw new ParleyError('session_revoked', 'refresh token was already used');
    }
    await this.db
      .insertInto('auth_refresh_spent')
      .values({ refresh_hash: presented, session_id: row.sid, expires_at: row.expires_at })
      .onConflict((oc) => oc.column('refresh_hash').doNothing())
      .execute();
    await this.db.deleteFrom('auth_refresh_spent').where('expires_at', '<=', now).execute();
    const user = (await this.directory.findUserRecordById(row.uid))!;
    return {
      accessToken: this.accessToken(row.uid, row.tenant_id, row.sid, row.role),
      refreshToken: next,
      expiresIn: this.cfg.accessTokenTtl,
      user: toUser(user),
    };
  }

  async revokeSession(sessionId: string): Promise<void> {
    const row = await this.db
      .selectFrom('auth_sessions')
      .select(['user_id', 'tenant_id'])
      .where('id', '=', sessionId)
      .executeTakeFirst();
    await this.db
      .updateTable('auth_sessions')
      .set({ revoked_at: Date.now() })
      .where('id', '=', sessionId)
      .where('revoked_at', 'is', null)
      .execute();
    if (row) this.bus.publish('session.revoked', { tenantId: row.tenant_id, userId: row.user_id, sessionId });
  }

  /** Revokes every session of a user and tells the realtime gateway to cut their connections. */
  async revokeUser(tenantId: string, userId: string): Promise<void> {
    await this.write((tx) => this.revokeUserSessions(tx, userId));
    this.userRevoked(tenantId, userId);
  }

  /**
   * Ends every live session of a user inside `tx`, the write that makes them invalid (a new password,
   * a disabled account), so no crash can leave the change committed and the old sessions alive.
   */
  async revokeUserSessions(tx: Kysely<Database>, userId: string): Promise<void> {
    await tx
      .updateTable('auth_sessions')
      .set({ revoked_at: Date.now() })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** Once the transaction that revoked a user's sessions has committed: cut their connections now. */
  userRevoked(tenantId: string, userId: string): void {
    this.bus.publish('user.disabled', { tenantId, userId });
  }

  /** Once the suspension of a tenant has committed: cut its open connections now. */
  tenantSuspended(tenantId: string): void {
    this.bus.publish('tenant.suspended', { tenantId });
  }

  /** Authenticates a bearer credential: an access token or an API key. */
  async authenticate(credential: string): Promise<Principal> {
    if (credential.startsWith(API_KEY_PREFIX)) return this.authenticateApiKey(credential);
    const claims = this.signer.verify(credential);
    if (!claims) throw new ParleyError('unauthorized', 'access token is not valid');
    if (claims.exp * 1000 <= Date.now())
      throw new ParleyError('token_expired', 'access token has expired; refresh it');
    const row = await this.db
      .selectFrom('auth_sessions')
      .innerJoin('users', 'users.id', 'auth_sessions.user_id')
      .innerJoin('tenants', 'tenants.id', 'users.tenant_id')
      .select([
        'auth_sessions.revoked_at',
        'auth_sessions.expires_at',
        'users.enabled',
        'users.role',
        'users.address',
        'users.tenant_id',
        'tenants.suspended_at',
      ])
      .where('auth_sessions.id', '=', claims.sid)
      .where('users.id', '=', claims.sub)
      .executeTakeFirst();
    if (!row || row.revoked_at !== null || row.expires_at <= Date.now())
      throw new ParleyError('session_revoked', 'this session has ended; sign in again');
    if (row.enabled !== 1) throw new ParleyError('user_disabled', 'this account is disabled');
    if (row.suspended_at !== null) throw suspendedError();
    return {
      kind: 'user',
      id: claims.sub,
      address: row.address,
      tenantId: row.tenant_id,
      role: row.role,
      sessionId: claims.sid,
    };
  }

  /** Is this session still live (for connections re-checking)? */
  async sessionLive(sessionId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('auth_sessions')
      .innerJoin('users', 'users.id', 'auth_sessions.user_id')
      .innerJoin('tenants', 'tenants.id', 'users.tenant_id')
      .select([
        'auth_sessions.revoked_at',
        'auth_sessions.expires_at',
        'users.enabled',
        'tenants.suspended_at',
      ])
      .where('auth_sessions.id', '=', sessionId)
      .executeTakeFirst();
    return (
      !!row &&
      row.revoked_at === null &&
      row.expires_at > Date.now() &&
      row.enabled === 1 &&
      row.suspended_at === null
    );
  }

  // --- API keys: tenant-scoped credentials for server-to-server apps ---

  async createApiKey(tenantId: string, name: string, role: 'user' | 'admin', createdBy: string | null) {
    const id = newId('key');
    const prefix = `${API_KEY_PREFIX}${randomSecret(6)}`;
    const secret = `${prefix}.${randomSecret()}`;
    const now = Date.now();
    await this.db
      .insertInto('api_keys')
      .values({
        id,
        tenant_id: tenantId,
        name,
        role,
        prefix,
        secret_hash: sha256(secret),
        created_by: createdBy,
        created_at: now,
        last_used_at: null,
        revoked_at: null,
      })
      .execute();
    return { id, name, role, prefix, createdAt: iso(now), lastUsedAt: null, secret };
  }

  async listApiKeys(tenantId: string) {
    const rows = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('revoked_at', 'is', null)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      role: r.role,
      prefix: r.prefix,
      createdAt: iso(r.created_at),
      lastUsedAt: r.last_used_at ? iso(r.last_used_at) : null,
    }));
  }

  /** Revokes a key of this tenant; false when the tenant has no such key. */
  async revokeApiKey(tenantId: string, keyId: string): Promise<boolean> {
    const r = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: Date.now() })
      .where('id', '=', keyId)
      .where('tenant_id', '=', tenantId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  private async authenticateApiKey(secret: string): Promise<Principal> {
    const prefix = secret.split('.')[0]!;
    const row = await this.db
      .selectFrom('api_keys')
      .leftJoin('users as creator', 'creator.id', 'api_keys.created_by')
      .innerJoin('tenants', 'tenants.id', 'api_keys.tenant_id')
      .selectAll('api_keys')
      .select([
        'creator.enabled as creator_enabled',
        'creator.role as creator_role',
        'tenants.suspended_at as tenant_suspended_at',
      ])
      .where('prefix', '=', prefix)
      .executeTakeFirst();
    if (!row || row.revoked_at !== null || row.secret_hash !== sha256(secret))
      throw new ParleyError('unauthorized', 'API key is not valid');
    // A key acts for the admin who made it: it stops when they are disabled, and an admin key stops when
    // they are no longer an admin. (Keys made by the CLI or another key have no user behind them.)
    if (row.creator_enabled !== null && row.creator_enabled !== undefined) {
      if (row.creator_enabled !== 1 || (row.role === 'admin' && row.creator_role !== 'admin'))
        throw new ParleyError('unauthorized', 'API key is not valid: the admin who created it no longer can');
    }
    if (row.tenant_suspended_at !== null) throw suspendedError();
    const now = Date.now();
    if (!row.last_used_at || now - row.last_used_at > 60_000) {
      await this.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', row.id).execute();
    }
    return {
      kind: 'api_key',
      id: row.id,
      address: null,
      tenantId: row.tenant_id,
      role: row.role,
      sessionId: null,
    };
  }
}

const suspendedError = () =>
  new ParleyError('tenant_suspended', 'your organisation is suspended by the service provider; contact them');
