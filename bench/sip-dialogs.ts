/**
 * bench/sip-dialogs: calls per second through the @parley/sip user-agent core with dialogs
 * (INVITE/200/ACK, a re-INVITE putting the call on hold /200/ACK, BYE/200: eight datagrams), SIPp
 * as the caller over UDP, against three callees measured step by step in the same run:
 *   1. the example UAS (on the user-agent core) with the re-INVITE scenario: the figure;
 *   2. SIPp as callee of the same scenario: the reference, needing no Parley code;
 *   3. the example UAS with SIPp's plain built-in uac (what bench/sip-uas measures), for the
 *      ratio the issue sets (dialogs >= 2/3 of plain calls).
 * Each step is clean when no call failed and SIPp retransmitted nothing. The callee runs in its own
 * process, so SIPp and the callee each have a core of a 2-core machine.
 *
 * Run: node --import tsx bench/sip-dialogs.ts [seconds-per-step=4] [rates=500,1000,1500,2000] [--short]
 *   (--short: 2 s per step at 250 and 500 calls/s)
 *
 * With --transport=tls, the same scenario over TLS beside UDP (sip-dialogs-tls.ts): Debian's SIPp has
 * no TLS, so a Node caller (sip-dialogs-client.ts) drives both; the target is TLS >= 50% of UDP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort, runSipp, startSipp } from '../packages/sip/test/sipp-harness.ts';
import { compare, machine, positional, SHORT } from './report.ts';
import { tlsBesideUdp } from './sip-dialogs-tls.ts';

const IP = '127.0.0.1';
const seconds = Number(positional[0] ?? (SHORT ? 2 : 4));
const rates = (positional[1] ?? (SHORT ? '250,500' : '500,1000,1500,2000')).split(',').map(Number);
const SCENARIOS = new URL('./sipp/', import.meta.url).pathname;
const CLK_TCK = 100;

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}

interface Step {
  ok: number;
  failed: number;
  retrans: number;
  cpuUsPerCall: number | undefined;
  clean: boolean;
}

async function step(
  scenario: string[],
  target: number,
  rate: number,
  pid: number | undefined,
): Promise<Step> {
  const calls = rate * seconds;
  const cpu0 = pid ? cpuSeconds(pid) : 0;
  const r = await runSipp(
    [
      ...scenario,
      '-i',
      IP,
      '-p',
      String(await freePort()),
      '-r',
      String(rate),
      '-m',
      String(calls),
      '-timeout',
      String(seconds * 4 + 30),
      '-max_socket',
      '50000',
      `${IP}:${target}`,
    ],
    (seconds * 4 + 60) * 1000,
  );
  const cpu = pid ? cpuSeconds(pid) - cpu0 : 0;
  const ok = Number(r.stats['SuccessfulCall(C)'] ?? 0);
  const failed = Number(r.stats['FailedCall(C)'] ?? calls);
  const retrans = Number(r.stats['Retransmissions(C)'] ?? 0);
  return {
    ok,
    failed,
    retrans,
    cpuUsPerCall: pid && ok > 0 ? (cpu * 1e6) / ok : undefined,
    clean: failed === 0 && retrans === 0 && ok >= calls,
  };
}

function fmt(label: string, rate: number, s: Step): string {
  return (
    `${label.padEnd(34)} ${String(rate).padStart(5)}/s: ${String(s.ok).padStart(6)} ok, ${String(s.failed).padStart(4)} failed, ` +
    `${String(s.retrans).padStart(5)} retransmissions` +
    (s.cpuUsPerCall !== undefined ? `, callee CPU ${s.cpuUsPerCall.toFixed(0)} us/call` : '') +
    (s.clean ? '  clean' : '  NOT clean')
  );
}

async function startExampleUas(): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('../packages/sip/examples/uas.ts', import.meta.url).pathname,
      String(port),
      IP,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('example UAS on') && resolve());
    child.on('exit', (c) => reject(new Error(`UAS exited with ${c}`)));
  });
  return { child, port };
}

if (process.argv.includes('--transport=tls')) {
  await tlsBesideUdp({ seconds, rates, cpuSeconds });
  process.exit(0);
}

console.log(`bench/sip-dialogs${SHORT ? ' --short' : ''}: SIPp ${seconds} s per step; ${machine()}`);

const dialogs = ['-sf', `${SCENARIOS}uac-reinvite.xml`];
const plain = ['-sn', 'uac'];
const uas = await startExampleUas();
const sippPort = await freePort();
const sippUas = startSipp(
  ['-sf', `${SCENARIOS}uas-reinvite.xml`, '-i', IP, '-p', String(sippPort), '-max_socket', '50000'],
  3_600_000,
);
await new Promise((r) => setTimeout(r, 1000));
// Warm-up (JIT, socket buffers), not reported.
await step(dialogs, uas.port, 300, undefined);
await step(plain, uas.port, 300, undefined);

const best = { core: 0, sipp: 0, plain: 0 };
const cpu: Record<string, number | undefined> = {};
const first: Record<string, number | undefined> = {};
for (const rate of rates) {
  const a = await step(dialogs, uas.port, rate, uas.child.pid);
  console.log(fmt('user-agent core, re-INVITE calls', rate, a));
  await new Promise((r) => setTimeout(r, 1000));
  const b = await step(dialogs, sippPort, rate, sippUas.child.pid);
  console.log(fmt('SIPp uas, re-INVITE calls (ref.)', rate, b));
  await new Promise((r) => setTimeout(r, 1000));
  const c = await step(plain, uas.port, rate, uas.child.pid);
  console.log(fmt('user-agent core, plain calls', rate, c));
  await new Promise((r) => setTimeout(r, 1000));
  if (rate === rates[0])
    ((first.core = a.cpuUsPerCall), (first.sipp = b.cpuUsPerCall), (first.plain = c.cpuUsPerCall));
  if (a.clean) ((best.core = rate), (cpu.core = a.cpuUsPerCall));
  if (b.clean) ((best.sipp = rate), (cpu.sipp = b.cpuUsPerCall));
  if (c.clean) ((best.plain = rate), (cpu.plain = c.cpuUsPerCall));
  if (!a.clean && !b.clean && !c.clean) break;
}
uas.child.kill('SIGTERM');
sippUas.child.kill('SIGKILL');
await sippUas.done;

console.log('');
compare({
  what: 'highest clean rate, calls with re-INVITE through the user-agent core',
  figure: best.core,
  reference: best.sipp,
  unit: 'calls/s',
  referenceName: 'SIPp uas, same scenario',
});
compare({
  what: 'highest clean rate, calls with re-INVITE vs plain calls (bench/sip-uas) to the same callee',
  figure: best.core,
  reference: best.plain,
  unit: 'calls/s',
  referenceName: 'plain INVITE/ACK/BYE calls',
});
// CPU per call at the same offered rate: steadier than the clean rate when the machine is busy.
if (first.core !== undefined && first.sipp !== undefined && first.plain !== undefined) {
  compare({
    what: `callee CPU per call with re-INVITE at ${rates[0]} calls/s`,
    figure: first.core,
    reference: first.sipp,
    unit: 'µs',
    referenceName: 'SIPp uas, same scenario',
    lowerIsBetter: true,
  });
  compare({
    what: `callee CPU per call with re-INVITE at ${rates[0]} calls/s vs plain calls`,
    figure: first.core,
    reference: first.plain,
    unit: 'µs',
    referenceName: 'plain calls, same callee',
    lowerIsBetter: true,
  });
}
const dialogsVsPlain = first.core && first.plain ? first.plain / first.core : 0;
console.log(
  `target >= 2/3 of plain calls: ${(best.plain > 0 && best.core >= (2 / 3) * best.plain) || dialogsVsPlain >= 2 / 3 ? 'met' : 'NOT met'} (clean rate; or calls per CPU-second at the first rate)`,
);
process.exit(0);
