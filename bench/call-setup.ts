/**
 * bench/call-setup: call signalling through the running server. Caller and callee pairs on their own
 * realtime sockets (a child process, bench/call-setup-client.ts) place calls open loop at rising rates:
 * each call is placed (`call.place` with an SDP offer), rings on the callee (`call.incoming`),
 * is answered, and hung up. Reports, per rate, calls completed per second and p50/p99 from sending
 * `call.place` to the callee receiving `call.incoming` (the issue's "placeCall to ringing"; target
 * p99 <= 20 ms at 200 new calls/s). Every call also writes its record (opened before it rings, then
 * ringing, answered, ended with two `call.ended` events), on SQLite in the data folder.
 *
 * The reference, measured in the same run with no Parley code: a bare `ws` relay in this process that
 * forwards the same frames between the same clients (place -> incoming, answer -> connected, hang-up
 * -> ended), parsing each frame as JSON and keeping a Map of calls, and nothing else.
 *
 * The servers run in this process; the sockets in a child process, so the latency clock is one
 * process's.
 *
 * Run: node --import tsx bench/call-setup.ts [seconds-per-step=3] [--short]
 *   (BENCH_RATES=100,200,400 the rates; --short: 1 s steps at 100, 200 and 400 calls/s)
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { createApp, type App } from '../packages/server/src/app.ts';
import { loadConfig } from '../packages/server/src/config.ts';
import { trustedScope } from '../packages/server/src/directory/scope.ts';
import type { ClientCommand, DriveResult, Pair } from './call-setup-client.ts';
import { ask as askClient, forkClient, pct } from './client-process.ts';
import { compare, machine, positional, SHORT } from './report.ts';

const SECONDS = Number(positional[0] ?? (SHORT ? 1 : 3));
const RATES = process.env.BENCH_RATES
  ? process.env.BENCH_RATES.split(',').map(Number)
  : SHORT
    ? [100, 200, 400]
    : [50, 100, 200, 300, 400, 600, 800];
/** Caller and callee pairs; a pair holds one call at a time (a call takes a few ms end to end). */
const PAIRS = SHORT ? 100 : 200;
/** The issue's target: p99 at or under this at TARGET_RATE calls/s. */
const P99_TARGET = 20;
const TARGET_RATE = 200;
const SETTLE_MS = SHORT ? 2000 : 5000;

interface Step {
  rate: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Every call placed, rung and completed, on time: the server kept up. */
  kept: boolean;
  /** CPU of this process (the server under test) per completed call, ms. */
  cpuPerCall: number;
  result: DriveResult;
}

const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');

const child = () => forkClient(new URL('./call-setup-client.ts', import.meta.url));
const ask = <T>(c: ChildProcess, m: ClientCommand, key: string) => askClient<T>(c, m, key);

async function parley(): Promise<{ app: App; dataDir: string; url: string; pairs: Pair[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-calls-'));
  const config = loadConfig(
    {},
    {
      port: 0,
      sipPort: 0,
      sipTlsPort: -1, // no SIP over TLS (its default port may be taken; calls between users need none)
      host: '127.0.0.1',
      dataDir,
      logLevel: 'silent',
      // A few fast clients: no per-connection throttle; every socket comes from 127.0.0.1.
      realtimeRate: 1_000_000,
      realtimeBurst: 1_000_000,
      httpMaxConnectionsPerAddress: 10_000,
    },
  );
  // BENCH_RECORDS=off: call control tells a sink that stores nothing (what the records cost, by difference).
  const none = async () => {};
  const app = await createApp(
    config,
    process.env.BENCH_RECORDS === 'off'
      ? { callRecords: { opened: none, ringing: none, answered: none, ended: none } }
      : {},
  );
  await app.listen();
  const t = await app.directory.createTenant({
    name: 'Bench calls',
    domains: ['calls.bench.example'],
    country: 'GB',
    timeZone: 'Europe/London',
  });
  // Signed in without a password check (argon2 per user would take the short run's budget): a session
  // row and its token are what a sign-in leaves.
  const user = async (label: string) => {
    const u = await app.directory.createUser(trustedScope(t.id), {
      address: `${label}@calls.bench.example`,
      displayName: label,
      passwordHash: null,
      role: 'user',
    });
    const session = await app.auth['openSession'](u.id, t.id, {
      sourceAddress: '127.0.0.1',
      userAgent: 'bench/call-setup',
    });
    return { id: u.id, token: session.accessToken };
  };
  const pairs: Pair[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const [caller, callee] = [await user(`caller${i}`), await user(`callee${i}`)];
    pairs.push({ callerToken: caller.token, calleeToken: callee.token, calleeId: callee.id });
  }
  return { app, dataDir, url: `ws://127.0.0.1:${app.config.port}/api/realtime`, pairs };
}

/**
 * The reference: a bare `ws` server relaying the same frames between the same clients. A socket is
 * named by its bearer token (the relay's "user id"); it answers hello, and for each call forwards the
 * place to the callee as `call.incoming`, the answer to the caller as connected (with the SDP), and the
 * hang-up to both as ended. No checks, no storage: what signalling costs on this machine at all.
 */
function relay(): Promise<{ close(): Promise<void>; url: string; pairs: Pair[] }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const byUser = new Map<string, WebSocket>();
  const calls = new Map<string, { caller: WebSocket; callee: WebSocket }>();
  let n = 0;
  const send = (ws: WebSocket | undefined, f: unknown) => ws?.send(JSON.stringify(f));
  wss.on('connection', (ws, req) => {
    const me = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    byUser.set(me, ws);
    ws.on('message', (raw) => {
      const f = JSON.parse(raw.toString()) as {
        t: string;
        id: number;
        to?: { userId: string };
        callId?: string;
        offer?: unknown;
        answer?: unknown;
      };
      const view = (id: string, state: string) => ({ id, state, video: false, endReason: null });
      switch (f.t) {
        case 'hello':
          return send(ws, { t: 'result', re: f.id, data: { v: 1, userId: me } });
        case 'call.place': {
          const id = `call_${++n}`;
          const callee = byUser.get(f.to!.userId)!;
          calls.set(id, { caller: ws, callee });
          send(ws, { t: 'result', re: f.id, data: { call: view(id, 'dialing') } });
          send(callee, { t: 'call.incoming', call: view(id, 'ringing'), offer: f.offer, candidates: [] });
          return send(ws, { t: 'call.update', call: view(id, 'ringing') });
        }
        case 'call.answer': {
          const c = calls.get(f.callId!)!;
          send(ws, { t: 'result', re: f.id, data: { call: view(f.callId!, 'connected') } });
          send(c.caller, { t: 'call.update', call: view(f.callId!, 'connected') });
          return send(c.caller, { t: 'call.sdp', callId: f.callId, description: f.answer });
        }
        case 'call.hangup': {
          const c = calls.get(f.callId!)!;
          calls.delete(f.callId!);
          send(ws, { t: 'result', re: f.id, data: {} });
          send(c.callee, { t: 'call.update', call: view(f.callId!, 'ended') });
          return send(c.caller, { t: 'call.update', call: view(f.callId!, 'ended') });
        }
      }
    });
  });
  return new Promise((resolve) =>
    wss.once('listening', () => {
      const pairs = Array.from({ length: PAIRS }, (_, i) => ({
        callerToken: `caller${i}`,
        calleeToken: `callee${i}`,
        calleeId: `callee${i}`,
      }));
      resolve({
        url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
        pairs,
        close: () =>
          new Promise<void>((r) => {
            for (const c of wss.clients) c.terminate();
            wss.close(() => r());
          }),
      });
    }),
  );
}

async function step(kid: ChildProcess, rate: number): Promise<Step> {
  const cpu0 = process.cpuUsage();
  const r = await ask<DriveResult>(
    kid,
    { cmd: 'drive', rate, seconds: SECONDS, settleMs: SETTLE_MS },
    'result',
  );
  const cpu = process.cpuUsage(cpu0);
  const lat = Float64Array.from(r.latencies).sort();
  const total = Math.round(rate * SECONDS);
  const kept =
    r.placed === total &&
    r.rang === total &&
    r.completed === total &&
    Object.keys(r.errors).length === 0 &&
    r.elapsed <= SECONDS * 1.1;
  return {
    rate,
    perSecond: r.completed / Math.max(SECONDS, r.elapsed),
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    kept,
    cpuPerCall: (cpu.user + cpu.system) / 1000 / Math.max(1, r.completed),
    result: r,
  };
}

function line(name: string, s: Step): void {
  const errors = Object.entries(s.result.errors)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(
    `${name.padEnd(7)} ${String(s.rate).padStart(5)}/s: ${s.perSecond.toFixed(0).padStart(5)} calls/s completed, ` +
      `place-to-ring p50 ${ms(s.p50)} ms p99 ${ms(s.p99)} ms, server CPU ${s.cpuPerCall.toFixed(2)} ms/call` +
      `${s.kept ? '' : ` — did not keep up (placed ${s.result.placed}, rang ${s.result.rang}, completed ${s.result.completed}, no free pair ${s.result.noPair}${errors ? `, errors: ${errors}` : ''})`}`,
  );
}

// --- run ---

console.log(
  `bench/call-setup: ${PAIRS} caller/callee pairs, ${SECONDS} s per step, rates ${RATES.join(', ')} calls/s`,
);
console.log(machine());
const p = await parley();
const r = await relay();
const kids = { parley: child(), relay: child() };
await ask(kids.parley, { cmd: 'open', url: p.url, pairs: p.pairs }, 'ready');
await ask(kids.relay, { cmd: 'open', url: r.url, pairs: r.pairs }, 'ready');
const steps: Record<'parley' | 'relay', Step[]> = { parley: [], relay: [] };
// Each rate on both, one right after the other, so the two see the same machine.
for (const rate of RATES) {
  for (const name of ['parley', 'relay'] as const) {
    const s = await step(kids[name], rate);
    steps[name].push(s);
    line(name, s);
  }
}
for (const k of Object.values(kids)) k.send({ cmd: 'close' } satisfies ClientCommand);
const records = await p.app.storage.db
  .selectFrom('call_records')
  .select((eb) => eb.fn.countAll<number>().as('n'))
  .where('ended_at', 'is not', null)
  .executeTakeFirstOrThrow();
console.log(`call records written and closed: ${Number(records.n)}`);
await p.app.close();
await r.close();
rmSync(p.dataDir, { recursive: true, force: true });

const highest = (xs: Step[]) => xs.filter((s) => s.kept && s.p99 <= P99_TARGET).at(-1)?.rate ?? 0;
const at = (xs: Step[]) => xs.find((s) => s.rate === TARGET_RATE) ?? xs[0]!;
const ours = at(steps.parley);
const ref = at(steps.relay);
console.log(
  `target p99 <= ${P99_TARGET} ms at ${TARGET_RATE} calls/s: ${ours.kept && ours.p99 <= P99_TARGET ? 'met' : 'MISSED'} ` +
    `(p99 ${ms(ours.p99)} ms${ours.kept ? '' : ', did not keep up'}); highest rate with p99 <= ${P99_TARGET} ms: ` +
    `Parley ${highest(steps.parley)}/s, relay ${highest(steps.relay)}/s`,
);
compare({
  what: `call setup p99, place to ring, at ${ours.rate} calls/s`,
  figure: ours.p99,
  reference: ref.p99,
  unit: 'ms',
  referenceName: 'bare ws relay of the same frames',
  lowerIsBetter: true,
  digits: 1,
});
compare({
  what: 'highest call rate with place-to-ring p99 <= 20 ms',
  figure: highest(steps.parley),
  reference: highest(steps.relay),
  unit: 'calls/s',
  referenceName: 'bare ws relay of the same frames',
});
