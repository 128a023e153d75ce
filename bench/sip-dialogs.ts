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
 * Run: node --import tsx bench/sip-dialogs.ts [seconds-per-step=4] [rates=500,1000,1500,2000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { freePort, runSipp, startSipp } from '../packages/sip/test/sipp-harness.ts';

const IP = '127.0.0.1';
const seconds = Number(process.argv[2] ?? 4);
const rates = (process.argv[3] ?? '500,1000,1500,2000').split(',').map(Number);
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

console.log(
  `sip-dialogs: SIPp ${seconds} s per step; cpu: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cpus), node ${process.version}`,
);

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
  if (a.clean) ((best.core = rate), (cpu.core = a.cpuUsPerCall));
  if (b.clean) ((best.sipp = rate), (cpu.sipp = b.cpuUsPerCall));
  if (c.clean) ((best.plain = rate), (cpu.plain = c.cpuUsPerCall));
  if (!a.clean && !b.clean && !c.clean) break;
}
uas.child.kill('SIGTERM');
sippUas.child.kill('SIGKILL');
await sippUas.done;

const pct = (x: number, y: number) => (y > 0 ? `${((x / y) * 100).toFixed(0)}%` : 'n/a');
console.log('');
console.log(
  `highest clean rate, user-agent core with re-INVITE: ${best.core} calls/s (${cpu.core?.toFixed(0) ?? '-'} us CPU per call)`,
);
console.log(
  `highest clean rate, SIPp against SIPp, same scenario: ${best.sipp} calls/s (${cpu.sipp?.toFixed(0) ?? '-'} us CPU per call)`,
);
console.log(
  `highest clean rate, plain calls (bench/sip-uas's): ${best.plain} calls/s (${cpu.plain?.toFixed(0) ?? '-'} us CPU per call)`,
);
console.log(
  `ratio to the SIPp pair: ${pct(best.core, best.sipp)}; to plain calls: ${pct(best.core, best.plain)}`,
);
if (cpu.core !== undefined && cpu.plain !== undefined)
  console.log(`CPU per call, dialogs vs plain: ${pct(cpu.plain, cpu.core)} of the plain rate per core`);
console.log(
  `target >= 2/3 of plain calls: ${best.plain > 0 && best.core >= (2 / 3) * best.plain ? 'met' : 'NOT met'}`,
);
process.exit(0);
