/**
 * Starts a real Parley server for a test, on SQLite in a temporary folder or on a fresh PostgreSQL
 * database, bound to 127.0.0.1 on a free port; plus fixtures to make tenants and users quickly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App, type AppOptions } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { trustedScope } from '../../src/directory/scope.ts';
import { hashPassword } from '../../src/credentials/passwords.ts';
import type { Engine } from '../../src/storage/db.ts';
import { createPgDatabase } from './pg.ts';
import { Http } from './http.ts';

export const engines: Engine[] = ['sqlite', 'postgres'];

export interface TestServer {
  app: App;
  url: string;
  http: Http;
  dataDir: string;
  databaseUrl: string | undefined;
  close(): Promise<void>;
}

export type Overrides = Partial<Record<keyof Config, unknown>>;

export async function startServer(
  engine: Engine = 'sqlite',
  overrides: Overrides = {},
  options: AppOptions = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  const pgdb = engine === 'postgres' ? await createPgDatabase() : undefined;
  const config = loadConfig(
    {},
    {
      port: 0,
      sipPort: 0,
      sipTlsPort: 0,
      host: '127.0.0.1',
      dataDir,
      logLevel: 'silent',
      databaseUrl: pgdb?.url,
      ...overrides,
    },
  );
  const app = await createApp(config, options);
  await app.listen();
  const url = `http://127.0.0.1:${app.config.port}`;
  return {
    app,
    url,
    http: new Http(url),
    dataDir,
    databaseUrl: pgdb?.url,
    async close() {
      await app.close();
      await pgdb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const PASSWORD = 'correct horse battery';

export interface TenantFixture {
  id: string;
  domain: string;
  admin: { id: string; address: string; token: string };
  user: { id: string; address: string; token: string };
}

let seq = 0;
let cachedHash: Promise<string> | undefined;

/** A tenant with an admin and a user, both signed in. */
export async function makeTenant(s: TestServer, label = 'org'): Promise<TenantFixture> {
  const domain = `${label}${++seq}-${process.pid}.example`;
  const t = await s.app.directory.createTenant({
    name: `${label} ${seq}`,
    domains: [domain],
    country: 'GB',
    timeZone: 'Europe/London',
  });
  const admin = await makeUser(s, t.id, `admin@${domain}`, 'admin');
  const user = await makeUser(s, t.id, `user@${domain}`, 'user');
  return { id: t.id, domain, admin, user };
}

export async function makeUser(
  s: TestServer,
  tenantId: string,
  address: string,
  role: 'user' | 'admin' = 'user',
  displayName?: string,
) {
  cachedHash ??= hashPassword(PASSWORD);
  const u = await s.app.directory.createUser(trustedScope(tenantId), {
    address,
    displayName: displayName ?? address.split('@')[0]!,
    passwordHash: await cachedHash,
    role,
  });
  const login = await s.http.post('/api/auth/login', { address, password: PASSWORD });
  if (login.status !== 200) throw new Error(`fixture sign-in failed: ${login.status} ${login.text}`);
  return { id: u.id, address, token: (login.json as { accessToken: string }).accessToken };
}

/** An operator (platform admin), signed in; resolves to their access token. */
export async function makeOperator(s: TestServer, address = `root${++seq}@ops.example`): Promise<string> {
  const op = await s.app.directory.operatorTenant(address.split('@')[1]!);
  cachedHash ??= hashPassword(PASSWORD);
  await s.app.directory.createUser(trustedScope(op.id), {
    address,
    displayName: 'Root',
    passwordHash: await cachedHash,
    role: 'operator',
  });
  const login = await s.http.post('/api/auth/login', { address, password: PASSWORD });
  return (login.json as { accessToken: string }).accessToken;
}
