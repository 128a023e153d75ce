/**
 * The writer queue (storage.write): a write is visible to another connection when its promise
 * resolves (acknowledged means committed); on SQLite writes run and resolve in queue order, the writes
 * queued together share one transaction, and one that throws rolls back only itself; kysely statements
 * and raw reads issued while a group is open wait for its COMMIT instead of seeing its rows. On
 * PostgreSQL the same promises hold for each write on its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { ENGINES, openTestStorage, type TestStorage } from '../billing/storage-helper.ts';

/** A second connection to the same database, as another process would see it. */
async function observer(
  t: TestStorage,
): Promise<{ has(key: string): Promise<boolean>; close(): Promise<void> }> {
  if (t.storage.engine === 'sqlite') {
    const other = new SQLite(t.url.slice('sqlite:'.length), { readonly: true });
    const q = other.prepare('select 1 from settings where key = ?');
    return { has: async (key) => q.get(key) !== undefined, close: async () => void other.close() };
  }
  const c = new pg.Client({ connectionString: t.url });
  await c.connect();
  return {
    has: async (key) => (await c.query('select 1 from settings where key = $1', [key])).rowCount === 1,
    close: () => c.end(),
  };
}

const put = (key: string) => ({ key, value: key });
const keys = async (t: TestStorage, like: string) =>
  (
    await t.storage.db
      .selectFrom('settings')
      .select('key')
      .where('key', 'like', like)
      .orderBy('key')
      .execute()
  ).map((r) => r.key);

for (const engine of ENGINES) {
  test(`${engine}: a write is visible to another connection when its promise resolves`, async () => {
    const t = await openTestStorage(engine);
    const other = await observer(t);
    try {
      const seen: Array<Promise<boolean>> = [];
      const writes = Array.from({ length: 40 }, (_, i) => {
        const key = `vis-${String(i).padStart(2, '0')}`;
        return t.storage
          .write(async (tx) => {
            await tx.insertInto('settings').values(put(key)).execute();
          })
          .then(() => seen.push(other.has(key)));
      });
      await Promise.all(writes);
      assert.deepEqual(await Promise.all(seen), Array(40).fill(true));
    } finally {
      await other.close();
      await t.dispose();
    }
  });

  test(`${engine}: a write that throws rolls back only its own statements and rejects only its own promise`, async () => {
    const t = await openTestStorage(engine);
    try {
      const boom = new Error('boom');
      const results = await Promise.allSettled([
        t.storage.write((tx) => tx.insertInto('settings').values(put('thr-a')).execute()),
        t.storage.write(async (tx) => {
          await tx.insertInto('settings').values(put('thr-b')).execute();
          throw boom;
        }),
        t.storage.write(async (tx) => {
          await tx.insertInto('settings').values(put('thr-c')).execute();
          // A constraint violation in the middle of a write: its first row goes too.
          await tx.insertInto('settings').values(put('thr-a')).execute();
        }),
        t.storage.write((tx) => tx.insertInto('settings').values(put('thr-d')).execute()),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
      );
      assert.equal((results[1] as PromiseRejectedResult).reason, boom);
      assert.deepEqual(await keys(t, 'thr-%'), ['thr-a', 'thr-d']);
    } finally {
      await t.dispose();
    }
  });
}

test('sqlite: writes run and resolve in queue order, each inside the transaction', async () => {
  const t = await openTestStorage('sqlite');
  try {
    const sqlite = t.storage.sqlite!;
    const ran: number[] = [];
    const resolved: number[] = [];
    const commits: number[] = [];
    // total_changes() counts this connection's rows; a group's writes all see the transaction open.
    const writes = Array.from({ length: 30 }, (_, i) =>
      t.storage
        .write(async (tx) => {
          // Asynchronous (kysely) and synchronous (raw) writes alternate.
          if (i % 2)
            await tx
              .insertInto('settings')
              .values(put(`ord-${i}`))
              .execute();
          else sqlite.prepare('insert into settings (key, value) values (?, ?)').run(`ord-${i}`, 'raw');
          ran.push(i);
          commits.push(sqlite.inTransaction ? 1 : 0);
          return i;
        })
        .then((v) => resolved.push(v)),
    );
    await Promise.all(writes);
    const order = Array.from({ length: 30 }, (_, i) => i);
    assert.deepEqual(ran, order);
    assert.deepEqual(resolved, order);
    assert.deepEqual(commits, Array(30).fill(1), 'every write ran inside a transaction');
  } finally {
    await t.dispose();
  }
});

test('sqlite: writes queued together share one transaction, bounded by writeGroupMax', async () => {
  const t = await openTestStorage('sqlite');
  try {
    const sqlite = t.storage.sqlite!;
    const insert = sqlite.prepare('insert into settings (key, value) values (?, ?)');
    // Another connection sees only committed rows: each write notes how many earlier writes were
    // committed when it ran, which is the same for every write of one group.
    const other = new SQLite(t.url.slice('sqlite:'.length), { readonly: true });
    const committed = other.prepare("select count(*) from settings where key like 'grp-%'").pluck();
    const seen = await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        t.storage.write(() => {
          insert.run(`grp-${i}`, 'x');
          return committed.get() as number;
        }),
      ),
    );
    other.close();
    // 600 writes queued in one turn, at most 256 per group (the default): three commits.
    assert.deepEqual([...new Set(seen)], [0, 256, 512]);
    assert.equal(seen.filter((n) => n === 256).length, 256);
  } finally {
    await t.dispose();
  }
});

test('sqlite: kysely statements and raw reads issued during an open group wait for its COMMIT', async () => {
  const t = await openTestStorage('sqlite');
  try {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const write = t.storage.write(async (tx) => {
      await tx.insertInto('settings').values(put('wait-1')).execute();
      entered();
      await gate; // a write that waits on something else holds the group open
    });
    await inside;
    const events: string[] = [];
    const kyselyRead = t.storage.db
      .selectFrom('settings')
      .select('key')
      .where('key', '=', 'wait-1')
      .executeTakeFirst()
      .then((r) => {
        events.push('kysely read');
        return r?.key;
      });
    const rawRead = t.storage.writer!.read(() => {
      events.push('raw read');
      return (
        t.storage.sqlite!.prepare('select key from settings where key = ?').get('wait-1') as
          { key: string } | undefined
      )?.key;
    });
    const lone = t.storage.db
      .insertInto('settings')
      .values(put('wait-2'))
      .execute()
      .then(() => events.push('lone write'));
    // Many turns of the event loop: nothing may run on the connection while the group is open.
    for (let i = 0; i < 1000; i++) await new Promise((r) => setImmediate(r));
    assert.equal(events.length, 0, events.join());
    release();
    await write;
    events.push('write');
    assert.equal(await kyselyRead, 'wait-1');
    assert.equal(await rawRead, 'wait-1');
    await lone;
    // Acknowledged first; only then did anything else use the connection.
    assert.equal(events[0], 'write');
    assert.deepEqual(events.slice(1).sort(), ['kysely read', 'lone write', 'raw read']);
    assert.deepEqual(await keys(t, 'wait-%'), ['wait-1', 'wait-2']);
  } finally {
    await t.dispose();
  }
});

test('sqlite: a transaction handle kept past its write, and a nested transaction, fail instead of writing outside', async () => {
  const t = await openTestStorage('sqlite');
  try {
    let kept!: Parameters<Parameters<typeof t.storage.write>[0]>[0];
    await t.storage.write((tx) => void (kept = tx));
    await assert.rejects(kept.insertInto('settings').values(put('late')).execute(), /after its write/);
    await assert.rejects(
      t.storage.write((tx) => tx.transaction().execute(async () => {})),
      /already inside a storage.write/,
    );
    assert.deepEqual(await keys(t, 'late'), []);
  } finally {
    await t.dispose();
  }
});

test('sqlite: a write whose statement ends the transaction fails the writes before it in its group', async () => {
  const t = await openTestStorage('sqlite');
  try {
    const sqlite = t.storage.sqlite!;
    const insert = sqlite.prepare('insert into settings (key, value) values (?, ?)');
    const results = await Promise.allSettled([
      t.storage.write(() => insert.run('end-a', 'x')),
      t.storage.write(() => sqlite.exec('rollback')),
      t.storage.write(() => insert.run('end-b', 'x')),
    ]);
    // The second ended the group's transaction, taking the first write's row with it: both fail; the
    // third runs in a new transaction.
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(await keys(t, 'end-%'), ['end-b']);
  } finally {
    await t.dispose();
  }
});

test('sqlite: close waits for queued writes and refuses new ones', async () => {
  const t = await openTestStorage('sqlite');
  const url = t.url;
  const writes = Array.from({ length: 10 }, (_, i) =>
    t.storage.write((tx) =>
      tx
        .insertInto('settings')
        .values(put(`cls-${i}`))
        .execute(),
    ),
  );
  const closing = t.storage.close();
  await assert.rejects(
    t.storage.write(() => 1),
    /storage is closed/,
  );
  await closing;
  await Promise.all(writes);
  const check = new SQLite(url.slice('sqlite:'.length), { readonly: true });
  const n =
    (check.prepare("select count(*) from settings where key like 'cls-%'").pluck().get() as number) ?? 0;
  check.close();
  assert.equal(n, 10);
  await t.dispose();
});
