/**
 * bench/sip-uas: SIPp's built-in uac against the example UAS of @parley/sip, stepping up the call
 * rate to find the highest clean rate (no retransmissions, < 0.1% failed calls) and the UAS CPU
 * per call; then SIPp uac against SIPp's own uas, the ceiling of this harness, and the ratio.
 * The UAS runs in its own process, so SIPp and the UAS each get a core of a 2-core machine.
 *
 * This measures the SIP stack (transport, parser, transactions) behind the example UAS, which production
 * does not run: it is the stack's figure. The server's own SIP path is reported once it answers calls.
 * The reference needs no Parley code: SIPp's own uas, measured in the same run.
 *
 * Run: node --import tsx bench/sip-uas.ts [seconds-per-step=8] [rates=500,1000,...] [--short]
 *   (--short: 2 s per step at 500 and 1000 calls/s)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, startSipp } from '../packages/sip/test/sipp-harness.ts';
import { compare, machine, positional, SHORT } from './report.ts';
import { IP, sweep as sweepSteps } from './sipp-steps.ts';

const seconds = Number(positional[0] ?? (SHORT ? 2 : 8));
const rates = (positional[1] ?? (SHORT ? '500,1000' : '500,1000,1500,2000,2500,3000,3500,4000,4500'))
  .split(',')
  .map(Number);

const sweep = (label: string, target: number, pid: number | undefined) =>
  sweepSteps({ scenario: ['-sn', 'uac'], target, pid, rates, seconds, label });

async function waitListening(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('example UAS on') && resolve());
    child.on('exit', (c) => reject(new Error(`UAS exited with ${c}`)));
  });
}

console.log(`bench/sip-uas${SHORT ? ' --short' : ''}: SIPp ${seconds} s per step; ${machine()}`);

// 1. SIPp uac -> example UAS
const uasPort = await freePort();
const uas = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    new URL('../packages/sip/examples/uas.ts', import.meta.url).pathname,
    String(uasPort),
    IP,
  ],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
await waitListening(uas);
const { best: ours, first: oursFirst } = await sweep('example UAS', uasPort, uas.pid);
uas.kill('SIGTERM');

// 2. SIPp uac -> SIPp uas: the ceiling of the harness
const ceilingPort = await freePort();
const sippUas = startSipp(
  ['-sn', 'uas', '-i', IP, '-p', String(ceilingPort), '-max_socket', '50000'],
  3_600_000,
);
await new Promise((r) => setTimeout(r, 1000));
const { best: ceiling, first: ceilingFirst } = await sweep('SIPp uas   ', ceilingPort, sippUas.child.pid);
sippUas.child.kill('SIGKILL');
await sippUas.done;

console.log('');
console.log(
  `highest clean rate, example UAS: ${ours ? `${ours.rate} calls/s (UAS CPU ${(ours.cpuMsPerCall! * 1000).toFixed(0)} us per call)` : 'none'}`,
);
console.log(
  `highest clean rate, SIPp uas (harness ceiling): ${ceiling ? `${ceiling.rate} calls/s` : 'none'}`,
);
compare({
  what: 'highest clean rate, example UAS on the stack',
  figure: ours?.rate ?? 0,
  reference: ceiling?.rate ?? 0,
  unit: 'calls/s',
  referenceName: 'SIPp uas, same harness',
});
// CPU per call at the same offered rate: steadier than the clean rate when the machine is busy.
if (oursFirst?.cpuMsPerCall !== undefined && ceilingFirst?.cpuMsPerCall !== undefined)
  compare({
    what: `UAS CPU per call at ${rates[0]} calls/s`,
    figure: oursFirst.cpuMsPerCall * 1000,
    reference: ceilingFirst.cpuMsPerCall * 1000,
    unit: 'µs',
    referenceName: 'SIPp uas',
    lowerIsBetter: true,
  });
console.log(`target >= 2,000 clean calls/s: ${ours && ours.rate >= 2000 ? 'met' : 'NOT met'}`);
process.exit(0);
