/**
 * A full disk, for real: a small tmpfs mounted for the test (the suite runs as root) holds the SQLite
 * data folder, or a PostgreSQL tablespace holding the presence table. Filled to the last byte, a write is
 * refused with a coded 507 and nothing is acknowledged that was not stored; health says degraded; once
 * space is freed writes work again and what was acknowledged survives a restart.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Presence } from '@parley/protocol';
import { engines, makeTenant, makeUser, startServer, PASSWORD, type TestServer } from '../helpers/server.ts';
import { code } from '../helpers/http.ts';
import { pgBaseUrl } from '../helpers/pg.ts';
import { closeClients, makeClient } from '../realtime/clients.ts';

/** Mounts a tmpfs of `size` at a new folder; returns it and a function that unmounts and removes it. */
function smallDisk(size: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'parley-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return {
    dir,
    remove() {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes a file until the filesystem has not one byte left; returns its path. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  try {
    for (const size of [1 << 20, 1 << 16, 1 << 12, 1 << 9, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

/** Puts the store of presence settings on a full filesystem; returns the function that frees it. */
async function fillStorage(s: TestServer, disk: { dir: string }, tablespace: string): Promise<() => void> {
  if (s.app.storage.engine === 'sqlite') {
    // Empties the WAL so the next commit must grow it (a WAL reused from its start needs no new space).
    for (let i = 0; i < 50; i++) {
      const [r] = s.app.storage.sqlite!.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      if (r!.busy === 0) break;
      await new Promise((res) => setTimeout(res, 20));
    }
  } else {
    // Only the heap moves to the small disk, its pages kept 90% empty (fillfactor 10) so that the next
    // new row needs a new page, which the full disk refuses.
    const c = new pg.Client({ connectionString: s.databaseUrl });
    await c.connect();
    await c.query(`alter table presence_settings set (fillfactor = 10)`);
    await c.query(`alter table presence_settings set tablespace ${tablespace}`);
    await c.end();
  }
  const filler = fill(disk.dir);
  return () => rmSync(filler);
}

const note = (text: string) => ({ note: { text: text.padEnd(280, '.'), until: null } });
const noteOf = async (s: TestServer, token: string) =>
  (
    (await s.http.get('/api/me/presence', { token })).json as { presence: Presence }
  ).presence.note?.text.replace(/\.+$/, '');

for (const engine of engines) {
  describe(`a full disk (${engine})`, { timeout: 60_000 }, () => {
    test('PUT /api/me/presence answers 507 storage_full and stores nothing; health is degraded; freed space works again and survives a restart', async () => {
      const disk = smallDisk(engine === 'sqlite' ? '16m' : '1m');
      const tablespace = `parley_full_${process.pid}`;
      const admin = engine === 'postgres' ? new pg.Client({ connectionString: pgBaseUrl() }) : undefined;
      let s: TestServer | undefined;
      let first: TestServer | undefined;
      try {
        if (admin) {
          const location = join(disk.dir, 'tablespace');
          mkdirSync(location);
          const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
          const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
          chownSync(location, uid, gid);
          await admin.connect();
          await admin.query(`create tablespace ${tablespace} location '${location}'`);
        }
        s = first = await startServer(engine, engine === 'sqlite' ? { dataDir: join(disk.dir, 'data') } : {});
        const t = await makeTenant(s, 'full');
        const carol = await makeUser(s, t.id, `carol@${t.domain}`);
        const put = (body: unknown, token = carol.token) =>
          s!.http.request('PUT', '/api/me/presence', body, { token });
        assert.equal((await put(note('stored before'), t.user.token)).status, 200);
        assert.equal((await put(note('stored before'), t.admin.token)).status, 200);

        const free = await fillStorage(s, disk, tablespace);
        const refused = await put(note('never stored'));
        assert.equal(refused.status, 507, refused.text);
        assert.equal(code(refused), 'storage_full');
        assert.equal(await noteOf(s, carol.token), undefined, 'a refused change is not applied');
        const health = await s.http.get('/api/health');
        assert.equal(health.status, 503);
        const h = health.json as { status: string; database: { ok: boolean; full: boolean } };
        assert.deepEqual([h.status, h.database.ok, h.database.full], ['degraded', true, true]);
        // Over the realtime protocol too, the same code.
        const c = makeClient(s, carol);
        await c.client.connect();
        await assert.rejects(c.client.presence.set(note('nor this')), { code: 'storage_full' });
        if (engine === 'sqlite') {
          // A sign-in writes its session in a transaction: the cause shows, not a failed rollback.
          const login = await s.http.post('/api/auth/login', { address: t.user.address, password: PASSWORD });
          assert.equal(login.status, 507, login.text);
          assert.equal(code(login), 'storage_full');
        }

        free();
        assert.equal((await put(note('stored after'))).status, 200);
        const healthy = await s.http.get('/api/health');
        assert.equal(healthy.status, 200, healthy.text);
        assert.equal((healthy.json as { database: { full: boolean } }).database.full, false);
        closeClients();

        await s.app.close();
        s = await startServer(engine, { dataDir: first.app.config.dataDir, databaseUrl: first.databaseUrl });
        assert.equal(await noteOf(s, carol.token), 'stored after');
        assert.equal(await noteOf(s, t.user.token), 'stored before');
      } finally {
        closeClients();
        if (s !== first) await s?.close(); // the restarted server (its own empty folder or database)
        await first?.close();
        if (admin) {
          await admin.query(`drop tablespace if exists ${tablespace}`);
          await admin.end();
        }
        disk.remove();
      }
    });
  });
}
