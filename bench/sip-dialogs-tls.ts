/**
 * bench/sip-dialogs --transport=tls: calls with a re-INVITE through the example UAS over TLS beside
 * the same UAS over UDP, step by step in the same run, both driven by the Node caller
 * (sip-dialogs-client.ts, its own process) since Debian's SIPp has no TLS. The figure is TLS's
 * highest clean rate and callee CPU per call; the reference is UDP's; the target TLS >= 50% of UDP.
 */
import { spawn } from 'node:child_process';
import { freePort } from '../packages/sip/test/sipp-harness.ts';
import { compare, machine, SHORT } from './report.ts';

const IP = '127.0.0.1';
const FIXTURES = new URL('../packages/sip/test/fixtures/tls/', import.meta.url).pathname;
const CERT = `${FIXTURES}server-cert.pem`;
const KEY = `${FIXTURES}server-key.pem`;

interface Result {
  ok: number;
  failed: number;
  cpuUsPerCall: number | undefined;
  clean: boolean;
}

function runClient(args: string[], timeoutMs: number): Promise<{ ok: number; failed: number }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', new URL('./sip-dialogs-client.ts', import.meta.url).pathname, ...args],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as { ok: number; failed: number });
      } catch {
        resolve({ ok: 0, failed: -1 });
      }
    });
  });
}

export async function tlsBesideUdp(o: {
  seconds: number;
  rates: number[];
  cpuSeconds(pid: number): number;
}): Promise<void> {
  console.log(
    `bench/sip-dialogs --transport=tls${SHORT ? ' --short' : ''}: Node caller, ${o.seconds} s per step; ${machine()}`,
  );
  const port = await freePort();
  const uas = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('../packages/sip/examples/uas.ts', import.meta.url).pathname,
      String(port),
      IP,
      '--tls',
      CERT,
      KEY,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const tlsPort = await new Promise<number>((resolve, reject) => {
    uas.stdout!.on('data', (d: Buffer) => {
      const m = /(\d+) \(TLS\)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    uas.on('exit', (c) => reject(new Error(`UAS exited with ${c}`)));
  });
  const step = async (transport: 'udp' | 'tls', rate: number, measure: boolean): Promise<Result> => {
    const cpu0 = o.cpuSeconds(uas.pid!);
    const r = await runClient(
      [transport, String(transport === 'tls' ? tlsPort : port), String(rate), String(o.seconds), '16', CERT],
      (o.seconds + 30) * 1000,
    );
    const cpu = o.cpuSeconds(uas.pid!) - cpu0;
    return {
      ...r,
      cpuUsPerCall: measure && r.ok > 0 ? (cpu * 1e6) / r.ok : undefined,
      clean: r.failed === 0 && r.ok >= rate * o.seconds,
    };
  };
  const line = (label: string, rate: number, r: Result) =>
    console.log(
      `${label.padEnd(30)} ${String(rate).padStart(5)}/s: ${String(r.ok).padStart(6)} ok, ${String(r.failed).padStart(4)} failed` +
        (r.cpuUsPerCall !== undefined ? `, callee CPU ${r.cpuUsPerCall.toFixed(0)} us/call` : '') +
        (r.clean ? '  clean' : '  NOT clean'),
    );
  // Warm-up (JIT, TLS session set-up), not reported.
  await step('udp', 200, false);
  await step('tls', 200, false);
  const best = { udp: 0, tls: 0 };
  const first: { udp?: number; tls?: number } = {};
  for (const rate of o.rates) {
    const u = await step('udp', rate, true);
    line('example UAS over UDP', rate, u);
    const t = await step('tls', rate, true);
    line('example UAS over TLS', rate, t);
    if (rate === o.rates[0]) ((first.udp = u.cpuUsPerCall), (first.tls = t.cpuUsPerCall));
    if (u.clean) best.udp = rate;
    if (t.clean) best.tls = rate;
    if (!u.clean && !t.clean) break;
  }
  uas.kill('SIGTERM');
  console.log('');
  compare({
    what: 'highest clean rate, calls with re-INVITE over TLS',
    figure: best.tls,
    reference: best.udp,
    unit: 'calls/s',
    referenceName: 'the same UAS over UDP, same caller',
  });
  if (first.udp !== undefined && first.tls !== undefined) {
    compare({
      what: `callee CPU per call with re-INVITE over TLS at ${o.rates[0]} calls/s`,
      figure: first.tls,
      reference: first.udp,
      unit: 'µs',
      referenceName: 'the same UAS over UDP',
      lowerIsBetter: true,
    });
  }
  const perCpu = first.udp && first.tls ? first.udp / first.tls : 0;
  console.log(
    `target TLS >= 50% of UDP: ${(best.udp > 0 && best.tls >= 0.5 * best.udp) || perCpu >= 0.5 ? 'met' : 'NOT met'} (clean rate; or calls per CPU-second at the first rate: ${perCpu.toFixed(2)})`,
  );
}
