/**
 * bench/registrar: registrations per second with digest (issue 16). SIPp registers Parley's SIP
 * devices (REGISTER, 401, REGISTER answering the MD5 challenge, 200: one "call" each) at stepped
 * rates against the server's registrar, which authenticates, stores the binding in SQLite before
 * the 200, and makes it a device in presence. Beside it, in the same run:
 * - bench/sip-uas's measure: SIPp's built-in uac against @parley/sip's example UAS (the stack's
 *   clean call rate; the target is registrations >= 2/3 of it);
 * - SIPp against SIPp: the same registration scenario against SIPp acting as a digest registrar
 *   (needs no Parley code: the harness's ceiling).
 * Each server runs in its own process, so SIPp and the server each get a core of a 2-core machine.
 *
 * Run: node --import tsx bench/registrar/registrar.ts [seconds-per-step=6] [rates=250,500,...] [--short]
 *   (--short: 2 s per step at 250 and 500 per second)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startSipp } from '../../packages/sip/test/sipp-harness.ts';
import { compare, machine, positional, SHORT } from '../report.ts';
import { IP, sweep } from '../sipp-steps.ts';

const seconds = Number(positional[0] ?? (SHORT ? 2 : 6));
const rates = (positional[1] ?? (SHORT ? '250,500' : '250,500,750,1000,1500,2000,2500,3000'))
  .split(',')
  .map(Number);
const DEVICES = 500;
const here = new URL('.', import.meta.url).pathname;

function started(child: ChildProcess, marker: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes(marker));
      if (line) resolve(line);
    });
    child.on('exit', (c) => reject(new Error(`server exited with ${c}`)));
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'bench-registrar-'));
console.log(`bench/registrar${SHORT ? ' --short' : ''}: SIPp ${seconds} s per step; ${machine()}`);

// 1. SIPp registering Parley's devices (u0..u499, in turn) with the server's registrar.
const server = spawn(process.execPath, ['--import', 'tsx', join(here, 'server.ts'), String(DEVICES)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const [, port, domain] = (await started(server, 'registrar on')).trim().split(' ').slice(1);
/** A SIPp injection line: user, domain, and the authentication keyword (SIPp expands it from a field). */
const device = (user: string) => `${user};${domain};[authentication username=${user} password=pw]`;
const devicesCsv = join(tmp, 'devices.csv');
writeFileSync(
  devicesCsv,
  ['SEQUENTIAL', ...Array.from({ length: DEVICES }, (_, i) => device(`u${i}`))].join('\n') + '\n',
);
const register = ['-sf', join(here, 'uac-register.xml'), '-inf', devicesCsv];
const parley = await sweep({
  scenario: register,
  target: Number(port),
  pid: server.pid,
  rates,
  seconds,
  label: 'Parley registrar',
  cpuName: 'server',
});
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));

// 2. bench/sip-uas: SIPp uac against the example UAS.
const uasPort = await freePort();
const uas = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    new URL('../../packages/sip/examples/uas.ts', import.meta.url).pathname,
    String(uasPort),
    IP,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
await started(uas, 'example UAS on');
const stack = await sweep({
  scenario: ['-sn', 'uac'],
  target: uasPort,
  pid: uas.pid,
  rates: rates.map((r) => r * 2),
  seconds,
  label: 'example UAS     ',
});
uas.kill('SIGTERM');

// 3. SIPp registering with SIPp as the registrar (one device: its scenario checks one password).
const oneCsv = join(tmp, 'one.csv');
writeFileSync(oneCsv, `SEQUENTIAL\n${device('u0')}\n`);
const refPort = await freePort();
const ref = startSipp(
  ['-sf', join(here, 'uas-register.xml'), '-i', IP, '-p', String(refPort), '-max_socket', '50000'],
  3_600_000,
);
await new Promise((r) => setTimeout(r, 1000));
const sipp = await sweep({
  scenario: ['-sf', join(here, 'uac-register.xml'), '-inf', oneCsv],
  target: refPort,
  pid: ref.child.pid,
  rates,
  seconds,
  label: 'SIPp registrar  ',
  cpuName: 'server',
});
ref.child.kill('SIGKILL');
await ref.done;
rmSync(tmp, { recursive: true, force: true });

console.log('');
const rate = parley.best?.rate ?? 0;
compare({
  what: 'highest clean registration rate with digest, Parley registrar',
  figure: rate,
  reference: sipp.best?.rate ?? 0,
  unit: 'registrations/s',
  referenceName: 'SIPp registrar, same harness',
});
compare({
  what: 'Parley registrations/s against the stack (example UAS calls/s, bench/sip-uas)',
  figure: rate,
  reference: stack.best?.rate ?? 0,
  unit: '/s',
  referenceName: 'example UAS',
});
if (parley.first?.cpuMsPerCall !== undefined && sipp.first?.cpuMsPerCall !== undefined)
  compare({
    what: `server CPU per registration at ${rates[0]}/s`,
    figure: parley.first.cpuMsPerCall * 1000,
    reference: sipp.first.cpuMsPerCall * 1000,
    unit: 'µs',
    referenceName: 'SIPp registrar',
    lowerIsBetter: true,
  });
const top = (s: typeof parley) => s.best?.rate === rates.at(-1) || s.best?.rate === rates.at(-1)! * 2;
if (top(parley) || top(stack))
  console.log('note: a clean rate at the last step tried is a floor, not a ceiling');
console.log(
  `target registrations >= 2/3 of the example UAS's clean rate: ${rate >= ((stack.best?.rate ?? Infinity) * 2) / 3 ? 'met' : 'NOT met'}`,
);
process.exit(0);
