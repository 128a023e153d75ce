/**
 * One server per data folder: a second `parley serve` on a folder another server holds refuses at once
 * with a clear message; the lock is the operating system's, so `kill -9` of the holder frees it.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Http } from '../helpers/http.ts';
import { engines } from '../helpers/server.ts';
import { createPgDatabase } from '../helpers/pg.ts';

const bin = new URL('../../bin/parley.js', import.meta.url).pathname;

function env(dataDir: string, databaseUrl: string | undefined): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PARLEY_DATA_DIR: dataDir,
    PARLEY_PORT: '0',
    PARLEY_SIP_PORT: '0',
    PARLEY_SIP_TLS_PORT: '0',
    PARLEY_LOG_LEVEL: 'silent',
    PARLEY_WEB_BUILD: 'never', // these tests are not about the web app: no build
    ...(databaseUrl ? { PARLEY_DATABASE_URL: databaseUrl } : {}),
  };
}

/** Starts `parley serve`; resolves once it prints its URL. */
async function serve(e: NodeJS.ProcessEnv): Promise<{ proc: ChildProcessWithoutNullStreams; url: string }> {
  const proc = spawn(process.execPath, [bin, 'serve'], { env: e });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /Open (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    proc.once('exit', (c) => reject(new Error(`server exited ${c}: ${err}`)));
  });
  return { proc, url };
}

const exited = (p: ChildProcessWithoutNullStreams) =>
  new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

for (const engine of engines) {
  describe(`one server per data folder (${engine})`, () => {
    let dataDir: string;
    let pg: { url: string; drop(): Promise<void> } | undefined;
    const running: ChildProcessWithoutNullStreams[] = [];
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'parley-lock-'));
      if (engine === 'postgres') pg = await createPgDatabase();
    });
    after(async () => {
      for (const p of running) {
        p.kill('SIGKILL');
        await exited(p);
      }
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    test('a second serve refuses at once; admin commands still share the folder; kill -9 frees it', async () => {
      const e = env(dataDir, pg?.url);
      const first = await serve(e);
      running.push(first.proc);

      const second = spawnSync(process.execPath, [bin, 'serve'], {
        env: e,
        encoding: 'utf8',
        timeout: 60_000,
      });
      // Without the lock it serves, so spawnSync times out with no exit status.
      assert.equal(second.status, 3, second.stderr);
      assert.match(
        second.stderr,
        new RegExp(`another Parley server \\(pid ${first.proc.pid}\\) is already serving the data folder`),
      );
      // The first server is unharmed.
      assert.equal((await new Http(first.url).get('/api/health')).status, 200);

      // The CLI's admin commands may still use the folder while the server runs.
      const tenant = spawnSync(
        process.execPath,
        [bin, 'tenant', 'create', '--name', 'Lockers', '--domain', 'lockers.example', '--json'],
        { env: e, encoding: 'utf8', timeout: 30_000 },
      );
      assert.equal(tenant.status, 0, tenant.stderr);

      first.proc.kill('SIGKILL');
      await exited(first.proc);
      const next = await serve(e);
      running.push(next.proc);
      assert.equal((await new Http(next.url).get('/api/health')).status, 200);
    });
  });
}
