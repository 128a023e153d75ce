/**
 * bench/connections: many idle, signed-in realtime connections, each watching the presence of a few
 * users, held by one Parley server process; reports the server's memory per connection (after garbage
 * collection), and the same for a bare `ws` server holding as many plain connections, as the reference.
 * Clients are spread over several processes and loopback source addresses (127.0.0.2, .3, ...), since
 * one process may open at most 20,000 files here.
 *
 * Run: node --import tsx bench/connections.ts [connections=15000] [client-processes=4] [subscriptions=20] [users=300] [--short]
 *   (--short: 1,000 connections from 1 process, 20 users)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { compare, machine, positional, SHORT } from './report.ts';

const N = Number(positional[0] ?? (SHORT ? 1_000 : 15_000));
const PROCS = Number(positional[1] ?? (SHORT ? 1 : 4));
const SUBS = Number(positional[2] ?? 20);
const USERS = Number(positional[3] ?? (SHORT ? 20 : 300));
const MODES = (process.env.BENCH_MODES ?? 'parley,bare').split(',') as Array<'parley' | 'bare'>;

function ask<T>(c: ChildProcess, msg: object, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: Record<string, unknown>) => {
      if (key in m) {
        c.off('message', on);
        resolve(m[key] as T);
      }
    };
    c.on('message', on);
    c.once('exit', (code) => reject(new Error(`child exited (${code}) before answering ${key}`)));
    c.send(msg);
  });
}

const kb = (bytes: number) => (bytes / 1024).toFixed(2);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

interface Result {
  mode: string;
  connections: number;
  rssPer: number;
  heapPer: number;
}

async function run(mode: 'parley' | 'bare'): Promise<Result> {
  const server = fork(new URL('./connections-server.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const t0 = Date.now();
  const started = await ask<{
    port: number;
    tokens: string[];
    userIds: string[];
    baseline: NodeJS.MemoryUsage;
  }>(server, { cmd: 'start', mode, users: USERS }, 'started');
  console.log(
    `  ${mode}: server ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${started.tokens.length} users signed in); baseline rss ${mb(started.baseline.rss)} MB, heap ${mb(started.baseline.heapUsed)} MB`,
  );
  const url =
    mode === 'parley' ? `ws://127.0.0.1:${started.port}/api/realtime` : `ws://127.0.0.1:${started.port}/`;
  const clients = Array.from({ length: PROCS }, () =>
    fork(new URL('./connections-client.ts', import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const per = Math.ceil(N / PROCS);
  const t1 = Date.now();
  const opened = await Promise.all(
    clients.map((c, i) =>
      ask<{ ok: number; failed: number }>(
        c,
        {
          cmd: 'open',
          mode,
          url,
          tokens: started.tokens,
          userIds: started.userIds,
          count: Math.min(per, N - i * per),
          subs: SUBS,
          localAddress: `127.0.0.${2 + i}`,
        },
        'opened',
      ),
    ),
  );
  const ok = opened.reduce((n, o) => n + o.ok, 0);
  const failed = opened.reduce((n, o) => n + o.failed, 0);
  console.log(
    `  ${mode}: ${ok} connections open${mode === 'parley' ? ` and subscribed to ${SUBS} users each` : ''} in ${((Date.now() - t1) / 1000).toFixed(1)} s (${failed} failed)`,
  );
  await new Promise((r) => setTimeout(r, 3000));
  const m = await ask<{ mem: NodeJS.MemoryUsage; connections: number; watched: number }>(
    server,
    { cmd: 'measure' },
    'measured',
  );
  const b = started.baseline;
  const rss = m.mem.rss - b.rss;
  const heap = m.mem.heapUsed + m.mem.external - (b.heapUsed + b.external);
  const result = {
    mode,
    connections: m.connections,
    rssPer: rss / m.connections,
    heapPer: heap / m.connections,
  };
  console.log(
    `  ${mode}: server holds ${m.connections} connections${mode === 'parley' ? ` (${m.watched} users watched)` : ''}: rss +${mb(rss)} MB = ${kb(result.rssPer)} kB per connection; heap+external +${mb(heap)} MB = ${kb(result.heapPer)} kB per connection`,
  );
  clients.forEach((c) => c.send({ cmd: 'close' }));
  server.send({ cmd: 'stop' });
  await new Promise((r) => server.once('exit', r));
  return result;
}

console.log(
  `bench/connections: ${N} idle connections over ${PROCS} client processes (127.0.0.2-${1 + PROCS}), ${SUBS} presence subscriptions each, ${USERS} users`,
);
console.log(machine());
const results: Result[] = [];
for (const mode of MODES) results.push(await run(mode));
const p = results.find((r) => r.mode === 'parley');
const b = results.find((r) => r.mode === 'bare');
console.log('');
if (p)
  console.log(
    `parley: ${p.connections} connections at ${kb(p.rssPer)} kB each (rss; target <= 12 kB) ${p.rssPer <= 12 * 1024 && p.connections >= N ? 'MET' : 'MISSED'}`,
  );
if (b) console.log(`bare ws: ${b.connections} connections at ${kb(b.rssPer)} kB each (rss)`);
if (p && b)
  compare({
    what: 'server memory per idle connection (rss)',
    figure: p.rssPer / 1024,
    reference: b.rssPer / 1024,
    unit: 'kB',
    referenceName: 'bare ws server, plain connections',
    lowerIsBetter: true,
    digits: 2,
  });
process.exit(0);
