/**
 * bench/echo: how many concurrent echo calls (Parley Echo, issue 15) one server process carries with
 * p99 added latency <= 10 ms and no loss. The callers (a child process, bench/echo-client.ts) are werift
 * peers, one realtime socket and one call each: they place the call, connect ICE and DTLS-SRTP, and send
 * a 20 ms tone stream as a microphone would. The server runs the whole echo: call control, the call
 * record, a `packages/media` WebRTC session per call decoding the caller's stream into the recorder and
 * pacing its own stream out (the prompt, then silence while it records).
 *
 * Added latency is what a caller would hear as lateness: each packet's arrival behind its stream's RTP
 * timestamp schedule (arrival minus timestamp, the stream's earliest packet at 0), over every packet of
 * every call in the measuring window. Loss is frames the timestamps say were due that never arrived
 * (lost on the way or skipped by a late pacer alike).
 *
 * The reference, measured in the same run with no Parley code: a bare werift loop in this process that
 * answers the same offers (the same frames on the same kind of socket, no checks, no records) with a
 * werift peer connection that sends each packet it receives straight back. The same callers, the same
 * streams, the same measure.
 *
 * Run: node --import tsx bench/echo.ts [seconds-per-step=8] [--short]
 *   (BENCH_CALLS=10,20,40 the concurrency steps; BENCH_CODEC=PCMU for G.711 instead of Opus;
 *    --short: 3 s windows at 4 and 8 calls)
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { RtpHeader, RtpPacket, RTCPeerConnection, useOPUS, usePCMU } from 'werift';
import { WebSocketServer } from 'ws';
import { noDefaultStun, type CodecName } from '../packages/media/src/index.ts';
import { createApp, type App } from '../packages/server/src/app.ts';
import { ECHO_CLOSING, ECHO_PROMPT } from '../packages/server/src/calls/echo.ts';
import { loadConfig } from '../packages/server/src/config.ts';
import { trustedScope } from '../packages/server/src/directory/scope.ts';
import type { EchoClientCommand, MeasureResult, OpenResult } from './echo-client.ts';
import { ask as askClient, forkClient, pct } from './client-process.ts';
import { compare, machine, ms, positional, SHORT, sleep, waitFor } from './report.ts';

const SECONDS = Number(positional[0] ?? (SHORT ? 3 : 8));
const STEPS = process.env.BENCH_CALLS
  ? process.env.BENCH_CALLS.split(',').map(Number)
  : SHORT
    ? [4, 8]
    : [5, 10, 20, 40, 60, 80];
const CODEC: CodecName = process.env.BENCH_CODEC === 'PCMU' ? 'PCMU' : 'OPUS';
/** The issue's target: p99 added latency at or under this, and nothing lost. */
const P99_TARGET = 10;
/** After the last call connects, before measuring: the first packets and the prompt's start settle. */
const SETTLE_MS = 1000;

interface Step {
  calls: number;
  p50: number;
  p99: number;
  lost: number;
  expected: number;
  silent: number;
  /** Median time from placing a call to its media connected, ms. */
  connectMs: number;
  /** This process's CPU (the server, or the bare loop) per call, % of one core. */
  cpuPerCall: number;
  ok: boolean;
}

const ask = <T>(c: ChildProcess, m: EchoClientCommand, key: string) => askClient<T>(c, m, key);

/** The server under test, with one signed-in user per concurrent call of the largest step. */
async function parley(): Promise<{ app: App; dataDir: string; url: string; tokens: string[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-echo-'));
  const config = loadConfig(
    {},
    {
      port: 0,
      sipPort: 0,
      sipTlsPort: -1,
      host: '127.0.0.1',
      dataDir,
      logLevel: 'silent',
      realtimeRate: 1_000_000,
      realtimeBurst: 1_000_000,
      httpMaxConnectionsPerAddress: 10_000,
      // The calls outlast the measuring window: the echo is still recording when they hang up.
      echoRecordSeconds: 60,
    },
  );
  const app = await createApp(config, {});
  await app.listen();
  // Spoken once before the run, so espeak-ng's process is not in any step's window.
  await app.echo.prompt(ECHO_PROMPT);
  await app.echo.prompt(ECHO_CLOSING);
  const t = await app.directory.createTenant({
    name: 'Bench echo',
    domains: ['echo.bench.example'],
    country: 'GB',
    timeZone: 'Europe/London',
  });
  const tokens: string[] = [];
  for (let i = 0; i < Math.max(...STEPS); i++) {
    const u = await app.directory.createUser(trustedScope(t.id), {
      address: `caller${i}@echo.bench.example`,
      displayName: `caller${i}`,
      passwordHash: null,
      role: 'user',
    });
    // A session row and its token are what a sign-in leaves (argon2 per user would take the budget).
    const session = await app.auth['openSession'](u.id, t.id, {
      sourceAddress: '127.0.0.1',
      userAgent: 'bench/echo',
    });
    tokens.push(session.accessToken);
  }
  return { app, dataDir, url: `ws://127.0.0.1:${app.config.port}/api/realtime`, tokens };
}

/**
 * The reference: a bare `ws` server speaking the same frames (hello, call.place -> call.sdp answer,
 * call.hangup), answering each offer with a plain werift peer connection on 127.0.0.1 that sends every
 * RTP packet it receives straight back. No checks, no records, no codec work.
 */
function bareLoop(): Promise<{ close(): Promise<void>; url: string; size(): number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const pcs = new Set<RTCPeerConnection>();
  wss.on('connection', (ws) => {
    const mine: RTCPeerConnection[] = [];
    const send = (f: object) => ws.send(JSON.stringify(f));
    ws.on('message', (raw) => {
      const f = JSON.parse(raw.toString()) as { t: string; id: number; offer?: { sdp: string } };
      if (f.t === 'hello') return send({ t: 'result', re: f.id, data: { v: 1 } });
      if (f.t === 'call.hangup') {
        for (const pc of mine.splice(0)) void pc.close().then(() => pcs.delete(pc));
        return send({ t: 'result', re: f.id, data: {} });
      }
      if (f.t !== 'call.place') return;
      const id = `call_${pcs.size}_${f.id}`;
      send({ t: 'result', re: f.id, data: { call: { id, state: 'ringing' } } });
      const pc = new RTCPeerConnection({
        iceServers: [],
        iceUseIpv4: false,
        iceUseIpv6: false,
        iceAdditionalHostAddresses: ['127.0.0.1'],
        iceInterfaceAddresses: { udp4: '127.0.0.1' },
        codecs: { audio: [CODEC === 'OPUS' ? useOPUS() : usePCMU()], video: [] },
      });
      pcs.add(pc);
      mine.push(pc);
      pc.onTrack.subscribe((track) =>
        track.onReceiveRtp.subscribe((rtp) => {
          const sender = pc.getTransceivers()[0]?.sender;
          const h = rtp.header;
          const header = new RtpHeader({
            payloadType: h.payloadType,
            sequenceNumber: h.sequenceNumber,
            timestamp: h.timestamp,
            marker: h.marker,
          });
          sender?.sendRtp(new RtpPacket(header, rtp.payload)).catch(() => {});
        }),
      );
      void (async () => {
        await pc.setRemoteDescription({ type: 'offer', sdp: f.offer!.sdp });
        pc.getTransceivers()[0]?.setDirection('sendrecv');
        noDefaultStun(pc); // as the server's sessions: no STUN server, loopback only
        await pc.setLocalDescription(await pc.createAnswer());
        send({ t: 'call.update', call: { id, state: 'connected' } });
        send({ t: 'call.sdp', callId: id, description: { type: 'answer', sdp: pc.localDescription!.sdp } });
      })();
    });
    ws.on('close', () => {
      for (const pc of mine.splice(0)) void pc.close().then(() => pcs.delete(pc));
    });
  });
  return new Promise((resolve) =>
    wss.once('listening', () =>
      resolve({
        url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
        size: () => pcs.size,
        close: () =>
          new Promise<void>((r) => {
            for (const c of wss.clients) c.terminate();
            wss.close(() => r());
          }),
      }),
    ),
  );
}

/** Opens `n` calls, measures one window, hangs up and waits until the side has let every call go. */
async function step(
  kid: ChildProcess,
  url: string,
  tokens: string[],
  n: number,
  idle: () => boolean,
): Promise<Step> {
  const opened = await ask<OpenResult>(
    kid,
    { cmd: 'open', url, tokens: tokens.slice(0, n), codec: CODEC },
    'ready',
  );
  if (opened.calls !== n) throw new Error(`a call of ${n} did not connect`);
  await sleep(SETTLE_MS);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await ask<MeasureResult>(kid, { cmd: 'measure', ms: SECONDS * 1000 }, 'result');
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await ask(kid, { cmd: 'hangup' }, 'done');
  await waitFor(idle, 'every call let go');
  const lat = Float64Array.from(r.lateness).sort();
  const lost = r.expected - r.received;
  const p99 = pct(lat, 99);
  return {
    calls: n,
    p50: pct(lat, 50),
    p99,
    lost,
    expected: r.expected,
    silent: r.silent,
    connectMs: pct(Float64Array.from(opened.connectMs).sort(), 50),
    cpuPerCall: ((cpu.user + cpu.system) / 1e6 / wall / n) * 100,
    ok: p99 <= P99_TARGET && lost === 0 && r.silent === 0,
  };
}

function line(name: string, s: Step): void {
  console.log(
    `${name.padEnd(9)} ${String(s.calls).padStart(3)} calls: added latency p50 ${ms(s.p50)} ms p99 ${ms(s.p99)} ms, ` +
      `lost ${s.lost} of ${s.expected} frames${s.silent ? `, ${s.silent} calls silent` : ''}, ` +
      `this process's CPU ${s.cpuPerCall.toFixed(2)}% of a core per call, ` +
      `placed to connected median ${s.connectMs.toFixed(0)} ms${s.ok ? '' : ' — over the target'}`,
  );
}

// --- run ---

console.log(
  `bench/echo: ${CODEC} echo calls, ${SECONDS} s window per step, ${STEPS.join(', ')} concurrent calls`,
);
console.log(machine());
const started = performance.now();
const p = await parley();
const loop = await bareLoop();
const kid = forkClient(new URL('./echo-client.ts', import.meta.url));
const steps: Record<'parley' | 'bare', Step[]> = { parley: [], bare: [] };
const parleyIdle = () => p.app.calls.idle && p.app.mediaEndpoint.size === 0;
const loopTokens = Array.from({ length: Math.max(...STEPS) }, (_, i) => `caller${i}`);
// Each size on both, one right after the other, so the two see the same machine.
for (const n of STEPS) {
  const ours = await step(kid, p.url, p.tokens, n, parleyIdle);
  steps.parley.push(ours);
  line('parley', ours);
  const ref = await step(kid, loop.url, loopTokens, n, () => loop.size() === 0);
  steps.bare.push(ref);
  line('bare loop', ref);
  if (!ours.ok && !ref.ok) break; // both past the target: larger steps say nothing more
}
kid.send({ cmd: 'close' } satisfies EchoClientCommand);
await p.app.close();
await loop.close();
rmSync(p.dataDir, { recursive: true, force: true });

console.log(`run took ${((performance.now() - started) / 1000).toFixed(0)} s after start-up`);
const highest = (xs: Step[]) => xs.filter((s) => s.ok).at(-1)?.calls ?? 0;
const last = steps.parley.length - 1;
compare({
  what: `concurrent echo calls carried with p99 added latency <= ${P99_TARGET} ms and no loss`,
  figure: highest(steps.parley),
  reference: highest(steps.bare),
  unit: 'calls',
  referenceName: 'bare werift loop of the same streams',
});
compare({
  what: `echo p99 added latency at ${steps.parley[last]!.calls} calls`,
  figure: steps.parley[last]!.p99,
  reference: steps.bare[last]!.p99,
  unit: 'ms',
  referenceName: 'bare werift loop of the same streams',
  lowerIsBetter: true,
  digits: 1,
});
compare({
  what: `CPU per echo call at ${steps.parley[last]!.calls} calls`,
  figure: steps.parley[last]!.cpuPerCall,
  reference: steps.bare[last]!.cpuPerCall,
  unit: '% of a core',
  referenceName: 'bare werift loop of the same streams',
  lowerIsBetter: true,
  digits: 2,
});
process.exit(0);
