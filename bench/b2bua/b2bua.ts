/**
 * bench/b2bua: clean calls per second through Parley's back-to-back user agent on a trunk (issue 18),
 * signalling only, beside Kamailio as a stateful proxy between the same two SIPp ends, in the same run.
 * Two paths, each with its reference:
 *
 *   calls in:  SIPp uac (carrier A, 127.0.0.2) --INVITE to a DID--> Parley --INVITE--> SIPp uas (.3, a phone)
 *              SIPp uac (carrier A, 127.0.0.2) --INVITE--> Kamailio (record_route; t_relay) --> SIPp uas
 *   calls out: SIPp uac (a phone, 127.0.0.4) --INVITE, 407, INVITE with digest--> Parley --INVITE-->
 *              SIPp uas (.3, carrier B)
 *              SIPp uac (a phone, 127.0.0.4) --the same--> Kamailio challenging INVITEs (auth module) --> uas
 *              SIPp uac (a phone, 127.0.0.4) --the same--> a second Parley, without routing decks or
 *              credit control --> uas
 *
 * Calls in: carrier A (a trunk whose allow-list is 127.0.0.2) calls numbers (DIDs) of the tenant, 100
 * users' numbers in turn; each user has no browser, only a registered SIP device, and every one of those
 * devices is the SIPp uas (registered by uac-register.xml from the uas's own address and port before the
 * uas starts; many users because call control holds one user to at most 100 calls at once, and a
 * carrier's calls go to many numbers). So each call is an inbound trunk leg and a phone leg, two dialogs
 * joined by call control, with a call record, exactly as a carrier's call to a desk phone goes.
 * Calls out: the same users' devices, now calling from 127.0.0.4, dial numbers that are none of ours
 * (the dial plan reads them as GB numbers) and Parley places them on carrier B, whose address is the
 * same SIPp uas. A phone is authenticated by digest, so Kamailio's reference for this path challenges
 * and checks the same digest. Both paths: INVITE with SDP, 200 with SDP, ACK, a hold of HOLD ms, BYE
 * from the caller. No RTP is sent (Parley still opens its media legs for each call, as it must to
 * answer with SDP).
 *
 * Calls out run on two Parley servers (server.ts) in the same run (issue 20's figure: routing and credit
 * control on every call within 15% of the same run without them): "Parley, phone out" has cost decks for
 * carriers B and C (both the same uas), so least-cost routing ranks them on every call, and credit
 * control on (authorised, kept and rated on the tenant's credit); "Parley, out plain" has no cost decks
 * and `PARLEY_CREDIT_CONTROL=false`. The two take their turns at each rate, in alternating order.
 *
 * A step is clean when every call of it succeeded at both ends, neither SIPp retransmitted anything
 * (the uas retransmits its 200 when the ACK is late, the uac its INVITE or BYE), and no call took 500 ms
 * or more from INVITE to 200 (a provisional answer, Kamailio's 100 or Parley's 180, stops the INVITE's
 * retransmissions, so a server falling behind would not show as retransmissions). The rate steps up
 * until a side is overloaded twice in a row; Kamailio and Parley take turns at each rate, so both see
 * the machine (shared, its load printed) at the same moment. CPU per call is each server's processes'
 * CPU time over the step's calls (Kamailio: the main process and its receivers). SIPp calling the uas
 * directly, with no server between, is the harness's own ceiling.
 *
 * Run: node --import tsx bench/b2bua/b2bua.ts [seconds-per-step=5] [rates=25,50,100,...] [--short]
 *   (--short: 1 s per step at 20 and 50 calls/s); HOLD=ms (default 200), KAMAILIO_CHILDREN (default 2),
 *   ONLY=label-prefixes (|-separated, e.g. Parley, "Parley, phone out|Parley, out plain", Kamailio),
 *   PROFILE=dir (the routed Parley's CPU profile; PROFILE_PLAIN=1 the plain one's too).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, readStats, runSipp } from '../../packages/sip/test/sipp-harness.ts';
import { compare, machine, positional, SHORT, sleep } from '../report.ts';
import { cpuSeconds } from '../sipp-steps.ts';
import { startKamailio, type Kamailio } from './kamailio.ts';

const seconds = Number(positional[0] ?? (SHORT ? 1 : 5));
const rates = (
  positional[1] ?? (SHORT ? '20,50' : '25,50,100,250,500,750,1000,1250,1500,1750,2000,2500,3000')
)
  .split(',')
  .map(Number);
const HOLD = Number(process.env.HOLD ?? 200);
const CHILDREN = Number(process.env.KAMAILIO_CHILDREN ?? 2);
/**
 * Where each party is: the servers on .1, carrier A (the caller) on .2, the callee (a phone when
 * calls come in, carrier B when they go out) on .3, the phones calling out on .4.
 */
const SERVER_IP = '127.0.0.1';
const CALLER_IP = '127.0.0.2';
const CALLEE_IP = '127.0.0.3';
const PHONE_IP = '127.0.0.4';
/** Calls out: each phone (the same users' devices) dials a number none of ours, on carrier B. */
const FIRST_OUT = 442079460000;
/** The numbers carrier A calls, one per user (each user's one device is the SIPp uas), in turn. */
const FIRST_DID = 441632960000;
const USERS = 100;
const here = new URL('.', import.meta.url).pathname;

const children: ChildProcess[] = [];
let kamailio: Kamailio | undefined;
let kamailioDigest: Kamailio | undefined;
const tmp = mkdtempSync(join(tmpdir(), 'bench-b2bua-'));
function cleanup(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
// Stopped from outside (a test's timeout): the servers and SIPp ends go too.
process.on('SIGTERM', () => {
  void Promise.allSettled([kamailio?.stop(), kamailioDigest?.stop()]).finally(() => process.exit(1));
});

function started(child: ChildProcess, marker: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes(marker));
      if (line) resolve(line);
    });
    child.on('exit', (c) => reject(new Error(`${marker}: exited with ${c}`)));
  });
}

interface Side {
  label: string;
  /** The caller's scenario (SIPp arguments) and address. */
  scenario: string[];
  ip: string;
  host: string;
  target: number;
  /** CPU seconds of the server so far (undefined: no server, the harness row). */
  cpu?: () => number;
  best?: Step;
  steps: Step[];
  dirty: number;
  done: boolean;
}

interface Step {
  rate: number;
  ok: number;
  failed: number;
  retrans: number;
  calleeRetrans: number;
  calleeFailed: number;
  /** Calls whose INVITE took 500 ms or more to its 200. */
  slow: number;
  /** Mean INVITE-to-200 time, ms. */
  setupMs: number;
  cpuUsPerCall: number | undefined;
  clean: boolean;
  /** The first unexpected answers SIPp logged (e.g. `503 Service Unavailable`), when calls failed. */
  why: string;
}

// The callee: one SIPp uas for every side, its cumulative statistics written each second.
const calleePort = await freePort();
const calleeStats = join(tmp, 'callee-stat.csv');
const didsCsv = join(tmp, 'dids.csv');
writeFileSync(
  didsCsv,
  ['SEQUENTIAL', ...Array.from({ length: USERS }, (_, i) => `+${FIRST_DID + i}`)].join('\n') + '\n',
);
const phonesCsv = join(tmp, 'phones.csv');
const INBOUND = ['-sf', join(here, 'uac-call.xml'), '-inf', didsCsv];
const OUTBOUND = ['-sf', join(here, 'uac-phone-call.xml'), '-inf', phonesCsv];
const calleeCounters = () => {
  const s = readStats(calleeStats);
  return { retrans: Number(s['Retransmissions(C)'] ?? 0), failed: Number(s['FailedCall(C)'] ?? 0) };
};

async function step(side: Side, rate: number): Promise<Step> {
  const calls = Math.max(1, Math.round(rate * seconds));
  const callee0 = calleeCounters();
  const cpu0 = side.cpu?.();
  const r = await runSipp(
    [
      ...side.scenario,
      '-i',
      side.ip,
      '-p',
      String(await freePort()),
      '-r',
      String(rate),
      '-m',
      String(calls),
      '-d',
      String(HOLD),
      '-timeout',
      String(seconds * 4 + 30),
      '-max_socket',
      '50000',
      `${side.host}:${side.target}`,
    ],
    (seconds * 4 + 60) * 1000,
  );
  const cpu = cpu0 === undefined ? undefined : side.cpu!() - cpu0;
  // Let the callee's last transactions end and its statistics file catch up.
  await sleep(Math.max(2500, HOLD + 1500));
  const callee1 = calleeCounters();
  const ok = Number(r.stats['SuccessfulCall(C)'] ?? 0);
  const failed = Number(r.stats['FailedCall(C)'] ?? calls);
  const retrans = Number(r.stats['Retransmissions(C)'] ?? 0);
  const calleeRetrans = callee1.retrans - callee0.retrans;
  const calleeFailed = callee1.failed - callee0.failed;
  const slow = Number(r.stats['ResponseTimeRepartitionsetup_>=500'] ?? 0);
  const answers = [...r.errors.matchAll(/received 'SIP\/2\.0 (\d{3}[^\r\n']*)/g)].map((m) => m[1]!);
  const why = failed > 0 ? [...new Set(answers)].slice(0, 3).join(', ') : '';
  const [sh, sm, ss, su] = (r.stats['ResponseTimesetup(C)'] ?? '').split(':').map(Number);
  const setupMs = ((sh ?? 0) * 3600 + (sm ?? 0) * 60 + (ss ?? 0)) * 1000 + (su ?? 0) / 1000;
  return {
    rate,
    ok,
    failed,
    retrans,
    calleeRetrans,
    calleeFailed,
    slow,
    setupMs,
    why,
    cpuUsPerCall: cpu !== undefined && ok > 0 ? (cpu * 1e6) / ok : undefined,
    clean:
      ok === calls &&
      failed === 0 &&
      retrans === 0 &&
      calleeRetrans === 0 &&
      calleeFailed === 0 &&
      slow === 0,
  };
}

function line(side: Side, s: Step): string {
  return (
    `${side.label.padEnd(18)} ${String(s.rate).padStart(5)}/s: ${String(s.ok).padStart(6)} ok, ` +
    `${String(s.failed + s.calleeFailed).padStart(4)} failed, ` +
    `${String(s.retrans).padStart(5)}+${String(s.calleeRetrans).padEnd(5)} retransmissions (caller+callee), ` +
    `setup ${s.setupMs.toFixed(0)} ms mean, ${s.slow} over 500 ms` +
    (s.cpuUsPerCall !== undefined ? `, server CPU ${s.cpuUsPerCall.toFixed(0)} us/call` : '') +
    (s.clean ? '  clean' : '  NOT clean') +
    (s.why ? ` (${s.why})` : '')
  );
}

async function run(side: Side, rate: number): Promise<void> {
  if (side.done) return;
  const s = await step(side, rate);
  console.log(line(side, s));
  side.steps.push(s);
  if (s.clean) side.best = s;
  // A few retransmissions can be noise on a shared machine: a side stops once the rate is clearly
  // beyond it (failures, >1% retransmissions or >1% of calls slower than 500 ms) twice in a row.
  const overloaded =
    s.failed + s.calleeFailed > s.ok * 0.001 ||
    s.retrans + s.calleeRetrans > s.ok * 0.01 ||
    s.slow > s.ok * 0.01;
  side.dirty = overloaded ? side.dirty + 1 : 0;
  if (side.dirty >= 2) side.done = true;
}

console.log(
  `bench/b2bua${SHORT ? ' --short' : ''}: SIPp ${seconds} s per step, hold ${HOLD} ms, ` +
    `Kamailio children=${CHILDREN}; ${machine()}`,
);

try {
  // 1. Parley, with carriers A, B and C and the users, their DIDs and devices (server.ts): one with cost
  // decks and credit control (every path but "out plain"), one with neither.
  const parley = (mode: 'routed' | 'plain', profile: boolean) => {
    const child = spawn(
      process.execPath,
      [
        // PROFILE=dir: the server's CPU profile (.cpuprofile) written there when it stops.
        ...(profile && process.env.PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.PROFILE] : []),
        '--import',
        'tsx',
        join(here, 'server.ts'),
        CALLER_IP,
        `+${FIRST_DID}`,
        String(USERS),
        `${CALLEE_IP}:${calleePort}`,
        mode,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, B2BUA_TMP: tmp } },
    );
    children.push(child);
    // Listening from the start: both servers start at once, so either may print first.
    const ready = started(child, 'b2bua on');
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    /** What it printed of its call records (`b2bua records: ...`) once stopped. */
    const records = () => /^b2bua records: (.*)$/m.exec(out)?.[1] ?? '?';
    return { child, records, ready };
  };
  const routed = parley('routed', true);
  const plain = parley('plain', process.env.PROFILE_PLAIN !== undefined);
  const server = routed.child;
  const [port, domain] = (await routed.ready).trim().split(' ').slice(2);
  const parleyPort = Number(port);
  const plainPort = Number((await plain.ready).trim().split(' ')[2]);

  // 2. The callee registers as every user's SIP device from its own address and port, then answers there.
  const csv = join(tmp, 'devices.csv');
  const device = (i: number) => `callee${i};${domain};[authentication username=callee${i} password=pw]`;
  writeFileSync(csv, ['SEQUENTIAL', ...Array.from({ length: USERS }, (_, i) => device(i))].join('\n') + '\n');
  // The same users' devices calling out, each to a number of its own on carrier B.
  writeFileSync(
    phonesCsv,
    ['SEQUENTIAL', ...Array.from({ length: USERS }, (_, i) => `${device(i)};+${FIRST_OUT + i}`)].join('\n') +
      '\n',
  );
  // The uas registers its users' devices with both servers, from the same address and port.
  for (const target of [parleyPort, plainPort]) {
    const reg = await runSipp(
      [
        '-sf',
        join(here, 'uac-register.xml'),
        '-inf',
        csv,
        '-i',
        CALLEE_IP,
        '-p',
        String(calleePort),
        '-m',
        String(USERS),
        '-r',
        '50',
        '-timeout',
        '20',
        `${SERVER_IP}:${target}`,
      ],
      40_000,
    );
    if (reg.stats['SuccessfulCall(C)'] !== String(USERS))
      throw new Error(`the callee did not register: ${JSON.stringify(reg.stats)} ${reg.errors}`);
  }
  const callee = spawn(
    'sipp',
    [
      '-sf',
      join(here, 'uas-answer.xml'),
      '-i',
      CALLEE_IP,
      '-p',
      String(calleePort),
      '-max_socket',
      '50000',
      '-nostdin',
      '-trace_stat',
      '-stf',
      calleeStats,
      '-fd',
      '1',
    ],
    { cwd: tmp, stdio: 'ignore' },
  );
  children.push(callee);

  // 3. Kamailio, relaying every new INVITE to the same callee; a second one challenging INVITEs first.
  const kamailioPort = await freePort();
  kamailio = await startKamailio({
    ip: SERVER_IP,
    port: kamailioPort,
    callee: `${CALLEE_IP}:${calleePort}`,
    children: CHILDREN,
  });
  const k = kamailio;
  const digestPort = await freePort();
  kamailioDigest = await startKamailio({
    ip: SERVER_IP,
    port: digestPort,
    callee: `${CALLEE_IP}:${calleePort}`,
    children: CHILDREN,
    password: 'pw',
  });
  const kd = kamailioDigest;
  await sleep(500);

  const side = (
    label: string,
    scenario: string[],
    ip: string,
    host: string,
    target: number,
    cpu?: () => number,
  ): Side => ({
    label,
    scenario,
    ip,
    host,
    target,
    cpu,
    steps: [],
    dirty: 0,
    done: false,
  });
  const all: Side[] = [
    side('Kamailio', INBOUND, CALLER_IP, SERVER_IP, kamailioPort, () => k.cpu()),
    side('Parley, carrier in', INBOUND, CALLER_IP, SERVER_IP, parleyPort, () => cpuSeconds(server.pid!)),
    side('Kamailio+digest', OUTBOUND, PHONE_IP, SERVER_IP, digestPort, () => kd.cpu()),
    side('Parley, phone out', OUTBOUND, PHONE_IP, SERVER_IP, parleyPort, () => cpuSeconds(server.pid!)),
    side('Parley, out plain', OUTBOUND, PHONE_IP, SERVER_IP, plainPort, () => cpuSeconds(plain.child.pid!)),
    side('SIPp direct', INBOUND, CALLER_IP, CALLEE_IP, calleePort),
  ];
  // ONLY=Parley (a label's start): run only those sides, e.g. to profile.
  // Several prefixes, |-separated (labels have commas): ONLY="Parley, phone out|Parley, out plain".
  const only = process.env.ONLY?.split('|');
  const sides = all.filter((s) => !only || only.some((p) => s.label.startsWith(p)));
  // Warm-up (JIT, socket buffers, Kamailio's memory pools): not reported.
  for (const side of sides.filter((s) => s.cpu)) {
    const warm = rates[0]!; // a rate every side carries, 2 s of it
    await runSipp(
      [
        ...side.scenario,
        '-i',
        side.ip,
        '-p',
        String(await freePort()),
        '-r',
        String(warm),
        '-m',
        String(warm * 2),
        '-d',
        String(HOLD),
        '-timeout',
        '30',
        `${side.host}:${side.target}`,
      ],
      60_000,
    );
  }
  await sleep(2000);

  for (const [i, rate] of rates.entries()) {
    // The two Parley calls-out sides swap their order at every step, so neither always runs second.
    const turn = [...sides];
    const a = turn.findIndex((s) => s.label === 'Parley, phone out');
    const b = turn.findIndex((s) => s.label === 'Parley, out plain');
    if (i % 2 === 1 && a >= 0 && b >= 0) [turn[a], turn[b]] = [turn[b]!, turn[a]!];
    for (const side of turn) await run(side, rate);
    if (sides.every((s) => s.done)) break;
  }

  const [kam, parleyIn, kamDigest, parleyOut, parleyPlain, direct] = all as [
    Side,
    Side,
    Side,
    Side,
    Side,
    Side,
  ];
  console.log('');
  console.log(`after the run: ${machine().replace(/^machine: .*, load/, 'load')}`);
  /** The figures of one Parley path beside its Kamailio reference; whether its targets were met. */
  const report = (parley: Side, ref: Side, path: string, refName: string): string => {
    const figure = parley.best?.rate ?? 0;
    const reference = ref.best?.rate ?? 0;
    compare({
      what: `highest clean calls/s through Parley, ${path}`,
      figure,
      reference,
      unit: 'calls/s',
      referenceName: `${refName}, same SIPp ends`,
    });
    // CPU per call at the highest rate both carried cleanly (at low rates Kamailio's timer processes'
    // idle ticks weigh on each call), and at each side's own highest clean rate.
    const both = parley.steps
      .filter((p) => p.clean && ref.steps.some((k) => k.clean && k.rate === p.rate))
      .at(-1);
    const refBoth = ref.steps.find((k) => k.rate === both?.rate);
    if (both?.cpuUsPerCall !== undefined && refBoth?.cpuUsPerCall !== undefined)
      compare({
        what: `server CPU per call at ${both.rate} calls/s, ${path}`,
        figure: both.cpuUsPerCall,
        reference: refBoth.cpuUsPerCall,
        unit: 'µs',
        referenceName: refName,
        lowerIsBetter: true,
      });
    if (parley.best?.cpuUsPerCall !== undefined && ref.best?.cpuUsPerCall !== undefined)
      console.log(
        `CPU per call at each side's highest clean rate: Parley ${parley.best.cpuUsPerCall.toFixed(0)} µs ` +
          `at ${parley.best.rate}/s, ${refName} ${ref.best.cpuUsPerCall.toFixed(0)} µs at ${ref.best.rate}/s`,
      );
    // Kamailio clean at the last rate tried is a floor: the share of it is then not measured.
    const share =
      reference === rates.at(-1)
        ? `not measured (${refName} was clean at the last rate tried)`
        : reference > 0 && figure >= reference * 0.55
          ? 'met'
          : 'NOT met';
    return `${path}: >= 1,000 clean calls/s ${figure >= 1000 ? 'met' : 'NOT met'}; >= 55% of ${refName} ${share}`;
  };
  const targets = [
    report(parleyIn, kam, 'carrier -> DID -> SIP phone', 'Kamailio stateful proxy'),
    report(
      parleyOut,
      kamDigest,
      'SIP phone (digest) -> number -> carrier',
      'Kamailio stateful proxy with digest',
    ),
  ];
  // Issue 20: calls out with least-cost routing and credit control against the same path without them.
  const lcr = parleyOut.best?.rate ?? 0;
  const bare = parleyPlain.best?.rate ?? 0;
  compare({
    what: 'highest clean calls/s, calls out with least-cost routing and credit control',
    figure: lcr,
    reference: bare,
    unit: 'calls/s',
    referenceName: 'the same calls on a Parley without cost decks, PARLEY_CREDIT_CONTROL=false, same run',
  });
  const bothOut = parleyOut.steps
    .filter((p) => p.clean && parleyPlain.steps.some((q) => q.clean && q.rate === p.rate))
    .at(-1);
  const plainBoth = parleyPlain.steps.find((q) => q.rate === bothOut?.rate);
  if (bothOut?.cpuUsPerCall !== undefined && plainBoth?.cpuUsPerCall !== undefined)
    compare({
      what: `server CPU per call at ${bothOut.rate} calls/s, calls out with routing and credit control`,
      figure: bothOut.cpuUsPerCall,
      reference: plainBoth.cpuUsPerCall,
      unit: 'µs',
      referenceName: 'without them',
      lowerIsBetter: true,
    });
  const plainShare =
    bare === rates.at(-1)
      ? 'not measured (the plain side was clean at the last rate tried)'
      : bare === 0
        ? 'not measured (the plain side had no clean step)'
        : lcr >= bare * 0.85
          ? 'met'
          : 'NOT met';
  targets.push(
    `calls out with routing and credit control: >= 85% of the same run without them ${plainShare}`,
  );
  console.log(`harness ceiling (SIPp uac -> SIPp uas, no server): ${direct.best?.rate ?? 0} clean calls/s`);
  if (sides.some((s) => s.best?.rate === rates.at(-1)))
    console.log('note: a clean rate at the last step tried is a floor, not a ceiling');
  for (const t of targets) console.log(`targets, ${t}`);

  for (const p of [routed, plain]) {
    p.child.kill('SIGTERM');
    await new Promise((r) => p.child.once('exit', r));
  }
  console.log(
    `call records by carrier: routed Parley: ${routed.records()}; plain Parley: ${plain.records()}`,
  );
} finally {
  await kamailio?.stop();
  await kamailioDigest?.stop();
  cleanup();
}
process.exit(0);
