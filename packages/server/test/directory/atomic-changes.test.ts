/**
 * A change and what must go with it commit together or not at all: a user's creation and its audit
 * entry, a tenant's creation and its entry, a password change with the end of the user's sessions and
 * its entry. Failures are injected in the real database (a trigger that refuses the second write), as
 * a crash between two commits would leave things; on both engines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Storage } from '../../src/storage/db.ts';
import { engines, makeOperator, makeTenant, PASSWORD, startServer } from '../helpers/server.ts';

/** Makes every INSERT (or UPDATE) on `table` fail until the returned function is called. */
async function refuse(
  storage: Storage,
  table: string,
  op: 'insert' | 'update',
): Promise<() => Promise<void>> {
  const name = `refuse_${table}_${op}`;
  if (storage.engine === 'sqlite') {
    await sql
      .raw(
        `create trigger ${name} before ${op} on ${table} begin select raise(abort, 'injected failure'); end`,
      )
      .execute(storage.db);
    return async () => void (await sql.raw(`drop trigger ${name}`).execute(storage.db));
  }
  await sql
    .raw(
      `create function ${name}() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`,
    )
    .execute(storage.db);
  await sql
    .raw(`create trigger ${name} before ${op} on ${table} for each row execute function ${name}()`)
    .execute(storage.db);
  return async () => {
    await sql.raw(`drop trigger ${name} on ${table}`).execute(storage.db);
    await sql.raw(`drop function ${name}()`).execute(storage.db);
  };
}

const code = (r: { json: unknown }) => (r.json as { error?: { code?: string } }).error?.code;

for (const engine of engines) {
  test(`${engine}: a user whose audit entry cannot be written is not created`, async () => {
    const s = await startServer(engine);
    try {
      const t = await makeTenant(s, 'atom');
      const address = `carol@${t.domain}`;
      const body = { address, displayName: 'Carol', password: 'a long enough password', role: 'user' };
      const allow = await refuse(s.app.storage, 'audit_log', 'insert');
      const failed = await s.http.post('/api/users', body, { token: t.admin.token });
      assert.equal(failed.status, 500);
      await allow();
      const found = await s.http.get(`/api/users?query=carol`, { token: t.admin.token });
      assert.deepEqual((found.json as { items: unknown[] }).items, []);
      const login = await s.http.post('/api/auth/login', { address, password: body.password });
      assert.equal(code(login), 'invalid_credentials');
      // The address is free: nothing half-made holds it.
      const again = await s.http.post('/api/users', body, { token: t.admin.token });
      assert.equal(again.status, 201, again.text);
      const audit = (await s.http.get('/api/audit', { token: t.admin.token })).json as {
        items: Array<{ action: string; target: string }>;
      };
      assert.equal(audit.items.filter((e) => e.action === 'user.create').length, 1);
    } finally {
      await s.close();
    }
  });

  test(`${engine}: a tenant whose audit entry cannot be written is not created`, async () => {
    const s = await startServer(engine);
    try {
      const op = await makeOperator(s);
      const body = {
        name: 'Half',
        domains: [`half-${engine}.example`],
        country: 'GB',
        timeZone: 'Europe/London',
      };
      const allow = await refuse(s.app.storage, 'audit_log', 'insert');
      assert.equal((await s.http.post('/api/operator/tenants', body, { token: op })).status, 500);
      await allow();
      const again = await s.http.post('/api/operator/tenants', body, { token: op });
      assert.equal(again.status, 201, again.text);
    } finally {
      await s.close();
    }
  });

  for (const [what, table, op] of [
    ['its sessions cannot be revoked', 'auth_sessions', 'update'],
    ['its audit entry cannot be written', 'audit_log', 'insert'],
  ] as const) {
    test(`${engine}: a password change whose ${what.replace('its ', '')} is not made, and the sessions stay as they were`, async () => {
      const s = await startServer(engine);
      try {
        const t = await makeTenant(s, 'pw');
        const allow = await refuse(s.app.storage, table, op);
        const changed = await s.http.patch(
          `/api/users/${t.user.id}`,
          { password: 'a brand new password' },
          { token: t.admin.token },
        );
        assert.equal(changed.status, 500);
        await allow();
        // The old password still signs in, the new one does not, and the old session still works.
        assert.equal(
          code(
            await s.http.post('/api/auth/login', {
              address: t.user.address,
              password: 'a brand new password',
            }),
          ),
          'invalid_credentials',
        );
        assert.equal(
          (await s.http.post('/api/auth/login', { address: t.user.address, password: PASSWORD })).status,
          200,
        );
        assert.equal((await s.http.get('/api/tenant', { token: t.user.token })).status, 200);
      } finally {
        await s.close();
      }
    });
  }

  test(`${engine}: a password change ends the user's sessions when it answers`, async () => {
    const s = await startServer(engine);
    try {
      const t = await makeTenant(s, 'pw');
      const changed = await s.http.patch(
        `/api/users/${t.user.id}`,
        { password: 'a brand new password' },
        { token: t.admin.token },
      );
      assert.equal(changed.status, 200, changed.text);
      assert.equal(code(await s.http.get('/api/tenant', { token: t.user.token })), 'session_revoked');
      assert.equal(
        (await s.http.post('/api/auth/login', { address: t.user.address, password: 'a brand new password' }))
          .status,
        200,
      );
      const audit = (await s.http.get('/api/audit', { token: t.admin.token })).json as {
        items: Array<{ action: string; target: string; detail: { changed: string[] } }>;
      };
      assert.deepEqual(
        audit.items
          .filter((e) => e.target === t.user.id && e.action === 'user.update')
          .map((e) => e.detail.changed),
        [['password']],
      );
    } finally {
      await s.close();
    }
  });
}
