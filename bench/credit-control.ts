/**
 * bench/credit-control: authorise + commit pairs against the database, one process, one connection,
 * each pair two committed transactions (the reservation with its holds; the charge, ledger entry and
 * rated call). On SQLite (the default) the database runs in WAL mode with synchronous=NORMAL, as
 * openStorage sets it: a committed transaction survives the process being killed (kill -9), though not
 * necessarily a power loss. `--kill-check` proves the first part: it runs the loop in a child process,
 * kills it with SIGKILL mid-run, reopens the database and checks that every wallet balances against its
 * ledger and its held reservations.
 * Target: >= 10,000 pairs per second with p99 <= 2 ms on SQLite.
 * Run: node --import tsx bench/credit-control.ts [pairs] [--concurrency 1,8,32] [--pg postgres://...] [--kill-check] [--short]
 *   (--short: 5,000 pairs at concurrency 1 and 8)
 */
import { spawn } from 'node:child_process';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBilling } from '../packages/server/src/billing/billing.ts';
import { trustedScope } from '../packages/server/src/directory/scope.ts';
import { openStorage, type Storage } from '../packages/server/src/storage/db.ts';
import { migrate } from '../packages/server/src/storage/migrator.ts';
import { compare, machine, SHORT } from './report.ts';

const args = process.argv.slice(2);
const flag = (name: string) => args.indexOf(name);
const PAIRS = Number(args.find((a) => /^\d+$/.test(a)) ?? (SHORT ? 5_000 : 100_000));
const pgUrl = flag('--pg') >= 0 ? args[flag('--pg') + 1] : undefined;
const TENANTS = 100;
const CONCURRENCY = (flag('--concurrency') >= 0 ? args[flag('--concurrency') + 1] : SHORT ? '1,8' : '1,8,32')
  .split(',')
  .map(Number);
let callSeq = 0;

const DECK = [
  'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment',
  '44,United Kingdom fixed,domestic,0.0100,0.05,60,60',
  '447,United Kingdom mobile,mobile,0.0600,0.05,30,6',
  '1,United States,international,0.02,0.10,1,1',
  '33,France,international,0.045,0,30,6',
].join('\n');
const DESTINATIONS = ['+442071234567', '+447700900123', '+12125550100', '+33142345678'];

async function setup(storage: Storage): Promise<void> {
  await migrate(storage);
  const billing = createBilling(storage);
  const deck = await billing.decks.createDeck({ name: 'bench', kind: 'sell' });
  await billing.decks.importVersion(deck.id, DECK, 0);
  const plan = await billing.plans.createPlan({
    name: 'Domestic + PAYG',
    pricePerUserMonth: 8_000_000,
    services: ['calling'],
    allowedClasses: ['domestic', 'mobile', 'international'],
    sellDeckId: deck.id,
    includedMinutes: [{ country: 'GB', cls: 'domestic', minutes: 3000 }],
  });
  const now = Date.now();
  for (let t = 0; t < TENANTS; t++) {
    const tid = `bt${t}`;
    await storage.db
      .insertInto('tenants')
      .values({
        id: tid,
        name: tid,
        country: 'GB',
        time_zone: 'Europe/London',
        is_operator: 0,
        created_at: now,
      })
      .execute();
    await storage.db
      .insertInto('users')
      .values({
        id: `${tid}-u`,
        tenant_id: tid,
        address: `u@${tid}.example`,
        display_name: 'u',
        search_name: 'u',
        title: null,
        department: null,
        role: 'user',
        enabled: 1,
        password_hash: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await billing.plans.setSeats(trustedScope(tid), plan.id, 1000);
    await billing.plans.assign(trustedScope(tid), `${tid}-u`, plan.id);
    await billing.wallet.topUp(trustedScope(tid), 1_000_000_000_000);
  }
}

/**
 * Runs `pairs` authorise + commit pairs from `concurrency` simultaneous call loops (each loop one call
 * at a time, as a trunk's calls arrive independently); returns pair latencies in ns.
 */
async function run(
  storage: Storage,
  pairs: number,
  concurrency: number,
): Promise<{ seconds: number; lat: Float64Array; refused: number }> {
  const billing = createBilling(storage);
  const lat = new Float64Array(pairs);
  let refused = 0;
  let next = 0;
  const loop = async () => {
    for (let i = next++; i < pairs; i = next++) {
      const t0 = process.hrtime.bigint();
      const tid = `bt${i % TENANTS}`;
      const destination = DESTINATIONS[i & 3];
      const a = await billing.credit.authorise({ scope: trustedScope(tid), userId: `${tid}-u`, destination });
      if (a.ok && !a.emergency) {
        const at = Date.now();
        await billing.credit.commit(a.reservationId, {
          id: `bench-${process.pid}-${++callSeq}`,
          tenantId: tid,
          userId: `${tid}-u`,
          direction: 'outbound',
          destination,
          startedAt: at,
          answeredAt: at,
          endedAt: at + ((i * 7919) % 290) * 1000,
        });
      } else refused++;
      lat[i] = Number(process.hrtime.bigint() - t0);
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, lat, refused };
}

/** Held reservations, as a literal so the partial index on held reservations serves the query. */
const HELD = sql<boolean>`state = 'held'`;

/** Every wallet balances: balance = top-ups + ledger movements, held = what held reservations hold. */
async function check(storage: Storage): Promise<string[]> {
  const problems: string[] = [];
  const accounts = await storage.db.selectFrom('billing_accounts').selectAll().execute();
  for (const a of accounts) {
    const ledger = await storage.db
      .selectFrom('billing_ledger')
      .select((eb) => eb.fn.sum<number>('amount_micros').as('s'))
      .where('tenant_id', '=', a.tenant_id)
      .executeTakeFirstOrThrow();
    const held = await storage.db
      .selectFrom('billing_reservations')
      .select((eb) => eb.fn.sum<number>('held_credit_micros').as('s'))
      .where('tenant_id', '=', a.tenant_id)
      .where(HELD)
      .executeTakeFirstOrThrow();
    if (Number(ledger.s ?? 0) !== Number(a.balance_micros))
      problems.push(`${a.tenant_id}: balance ${a.balance_micros} but ledger sums to ${ledger.s}`);
    if (Number(held.s ?? 0) !== Number(a.held_micros))
      problems.push(`${a.tenant_id}: held ${a.held_micros} but reservations hold ${held.s}`);
    if (Number(a.balance_micros) < 0) problems.push(`${a.tenant_id}: negative balance`);
  }
  return problems;
}

/**
 * The machine's reference: the issue's baseline shape (raw better-sqlite3, statements prepared once, one
 * SELECT + UPDATE + INSERT transaction per operation, two per pair) on the same disk, same moment, so
 * the figures above can be read against what this machine does at all right now.
 */
function baseline(dir: string, pairs: number): number {
  const db = new SQLite(join(dir, 'baseline.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'create table a (id text primary key, bal integer not null); create table l (seq integer primary key autoincrement, id text unique, t text, amt integer, at integer)',
  );
  const ins0 = db.prepare('insert into a values (?, 0)');
  for (let i = 0; i < TENANTS; i++) ins0.run(`t${i}`);
  const sel = db.prepare('select bal from a where id = ?');
  const up = db.prepare('update a set bal = bal + ? where id = ?');
  const ins = db.prepare('insert into l (id, t, amt, at) values (?, ?, ?, ?)');
  const op = db.transaction((i: number, sign: number) => {
    const t = `t${i % TENANTS}`;
    sel.get(t);
    up.run(sign, t);
    ins.run(`${sign}-${i}`, t, sign, i);
  });
  const start = process.hrtime.bigint();
  for (let i = 0; i < pairs; i++) {
    op.immediate(i, 1);
    op.immediate(i, -1);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  db.close();
  return pairs / seconds;
}

const pct = (sorted: Float64Array, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] / 1e6;

if (flag('--child') >= 0) {
  // The kill-check child: run until killed (with checkpoints in a worker thread, as the server runs).
  const storage = openStorage({ dataDir: args[flag('--child') + 1], backgroundCheckpoints: true });
  await run(storage, 10_000_000, 16);
} else if (flag('--kill-check') >= 0) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-cc-'));
  const setupStorage = openStorage({ dataDir: dir });
  await setup(setupStorage);
  await setupStorage.close();
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', dir], {
    stdio: 'inherit',
  });
  await new Promise((r) => setTimeout(r, 4000));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const storage = openStorage({ dataDir: dir });
  const committed = await storage.db
    .selectFrom('billing_rated_calls')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const open = await storage.db
    .selectFrom('billing_reservations')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(HELD)
    .executeTakeFirstOrThrow();
  const problems = await check(storage);
  console.log(
    `kill -9 after 4 s: ${committed.n} calls committed survived, ${open.n} reservation(s) left held (released later by expiry)`,
  );
  console.log(
    problems.length
      ? `INCONSISTENT:\n  ${problems.join('\n  ')}`
      : 'every wallet balances against its ledger and held reservations',
  );
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
  if (problems.length) process.exit(1);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-cc-'));
  let storage: Storage;
  let dropDb: (() => Promise<void>) | null = null;
  if (pgUrl) {
    const pg = (await import('pg')).default;
    const name = `bench_cc_${process.pid}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    storage = openStorage({ dataDir: dir, databaseUrl: pgUrl.replace(/\/[^/]*$/, `/${name}`) });
    dropDb = async () => {
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  } else {
    // As the server opens it: checkpoints in a worker thread (--inline-checkpoints: SQLite's default).
    storage = openStorage({ dataDir: dir, backgroundCheckpoints: flag('--inline-checkpoints') < 0 });
  }
  await setup(storage);
  const mode =
    storage.engine === 'sqlite'
      ? `SQLite WAL, synchronous=NORMAL, ${flag('--inline-checkpoints') < 0 ? 'checkpoints in a worker thread' : 'checkpoints inline (SQLite default)'}`
      : 'PostgreSQL (pg pool)';
  console.log(`bench/credit-control${SHORT ? ' --short' : ''}, ${mode}; ${machine()}`);
  console.log(
    `${TENANTS} tenants, 4 destinations, 2 committed transactions per pair (authorise; commit with ledger entry and rated call)`,
  );
  let best = 0;
  for (const concurrency of CONCURRENCY) {
    await run(storage, Math.min(SHORT ? 1_000 : 10_000, PAIRS), concurrency); // warm-up
    const cpu0 = process.cpuUsage();
    const { seconds, lat, refused } = await run(storage, PAIRS, concurrency);
    const cpu = process.cpuUsage(cpu0);
    const cpuPerPair = (cpu.user + cpu.system) / PAIRS;
    const sorted = lat.slice().sort();
    best = Math.max(best, PAIRS / seconds);
    console.log(
      `concurrency ${String(concurrency).padStart(3)}: ${PAIRS} pairs in ${seconds.toFixed(2)} s = ${Math.round(PAIRS / seconds).toLocaleString('en-US')} pairs/s; ` +
        `pair latency p50 ${pct(sorted, 0.5).toFixed(3)} ms, p99 ${pct(sorted, 0.99).toFixed(3)} ms, max ${pct(sorted, 1).toFixed(3)} ms; ` +
        `process CPU ${cpuPerPair.toFixed(0)} us per pair${refused ? `, ${refused} refused` : ''}`,
    );
  }
  console.log('targets: >= 10,000 pairs/s, p99 <= 2 ms');
  if (storage.engine === 'sqlite') {
    const ref = baseline(dir, Math.min(20_000, PAIRS));
    compare({
      what: 'credit control, authorise + commit pairs (best concurrency)',
      figure: best,
      reference: ref,
      unit: 'pairs/s',
      referenceName: 'raw better-sqlite3, 2 minimal transactions per pair, same disk',
    });
  }
  const problems = await check(storage);
  console.log(
    problems.length
      ? `INCONSISTENT: ${problems.slice(0, 5).join('; ')}`
      : 'wallets balance against ledgers and held reservations',
  );
  await storage.close();
  if (dropDb) await dropDb();
  rmSync(dir, { recursive: true, force: true });
}
