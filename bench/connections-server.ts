/**
 * The server process of bench/connections, run with --expose-gc: a Parley server (or a bare `ws`
 * server, the reference) whose memory is measured after garbage collection, before and after the
 * connections arrive. Parley users are created and signed in here, once: the many connections share
 * a few hundred users' tokens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { WebSocketServer } from 'ws';
import { createApp, type App } from '../packages/server/src/app.ts';
import { loadConfig } from '../packages/server/src/config.ts';
import { trustedScope } from '../packages/server/src/directory/scope.ts';
import { hashPassword } from '../packages/server/src/credentials/passwords.ts';

type Command =
  { cmd: 'start'; mode: 'parley' | 'bare'; users: number } | { cmd: 'measure' } | { cmd: 'stop' };

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 4; i++) {
    gc!();
    await sleep(250);
  }
  return process.memoryUsage();
}

let app: App | null = null;
let wss: WebSocketServer | null = null;
let bareCount = 0;
let dataDir = '';

async function startParley(users: number) {
  dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-conn-'));
  // Heartbeats every 25 s as in production; the flood gate at its defaults.
  app = await createApp(
    loadConfig(
      {},
      // The connections share a few hundred users' sign-ins: many sockets per user.
      {
        port: 0,
        host: '127.0.0.1',
        dataDir,
        logLevel: 'silent',
        loginMaxPerAddress: 1_000_000,
        realtimeMaxPerUser: 1_000_000,
      },
    ),
  );
  await app.listen();
  const tenant = await app.directory.createTenant({
    name: 'Bench',
    domains: ['conn.example'],
    country: 'GB',
    timeZone: 'UTC',
  });
  const hash = await hashPassword('bench password 1');
  const tokens: string[] = [];
  const userIds: string[] = [];
  for (let i = 0; i < users; i += 16) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(16, users - i) }, async (_, k) => {
        const address = `u${i + k}@conn.example`;
        await app!.directory.createUser(trustedScope(tenant.id), {
          address,
          displayName: `User ${i + k}`,
          passwordHash: hash,
          role: 'user',
        });
        return app!.auth.login(address, 'bench password 1', {
          sourceAddress: '127.0.0.1',
          userAgent: 'bench',
        });
      }),
    );
    for (const r of batch) {
      tokens.push(r.accessToken);
      userIds.push(r.user.id);
    }
  }
  return { port: app.config.port, tokens, userIds };
}

async function startBare() {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss!.once('listening', r));
  wss.on('connection', (ws) => {
    bareCount++;
    ws.on('close', () => bareCount--);
  });
  return { port: (wss.address() as { port: number }).port, tokens: [], userIds: [] };
}

process.on('message', async (c: Command) => {
  switch (c.cmd) {
    case 'start': {
      const r = c.mode === 'parley' ? await startParley(c.users) : await startBare();
      const baseline = await settledMemory();
      if (process.env.BENCH_HEAP_SNAPSHOT)
        writeHeapSnapshot(`${process.env.BENCH_HEAP_SNAPSHOT}.start-${c.mode}.heapsnapshot`);
      process.send!({ started: { ...r, baseline } });
      break;
    }
    case 'measure': {
      const mem = await settledMemory();
      const connections = app ? app.realtime.size : bareCount;
      const watched = app ? app.realtime.watchers.size : 0;
      // BENCH_HEAP_SNAPSHOT=file: also write a heap snapshot, to see where the memory goes.
      if (process.env.BENCH_HEAP_SNAPSHOT)
        writeHeapSnapshot(
          `${process.env.BENCH_HEAP_SNAPSHOT}.${c.cmd}-${app ? 'parley' : 'bare'}.heapsnapshot`,
        );
      process.send!({ measured: { mem, connections, watched } });
      break;
    }
    case 'stop':
      if (app) await Promise.race([app.close(), sleep(5000)]);
      if (wss) wss.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
  }
});
