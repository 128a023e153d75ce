/**
 * Stepping SIPp's call rate against a SIP server to find its highest clean rate (no
 * retransmissions, < 0.1% failed calls) and the server's CPU per call, for bench/sip-uas and
 * bench/registrar. A SIPp "call" is whatever its scenario does: an INVITE dialog, or a REGISTER with
 * its digest challenge.
 */
import { readFileSync } from 'node:fs';
import { freePort, runSipp } from '../packages/sip/test/sipp-harness.ts';

export const IP = '127.0.0.1';
const CLK_TCK = 100;

/** CPU seconds a process has used (utime + stime from /proc). */
export function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

export interface Step {
  rate: number;
  ok: number;
  failed: number;
  retrans: number;
  achieved: number;
  cpuMsPerCall: number | undefined;
  clean: boolean;
}

export interface SweepOptions {
  /** The scenario's SIPp arguments, e.g. `['-sn', 'uac']` or `['-sf', file, '-inf', csv]`. */
  scenario: string[];
  target: number;
  /** The server's process, for its CPU per call. */
  pid: number | undefined;
  rates: number[];
  seconds: number;
  /** What the server is called in the lines printed. */
  label: string;
  /** What the CPU figure is called (default UAS). */
  cpuName?: string;
}

/** SIPp's arguments for `calls` calls at `rate` against the target. */
async function sippArgs(o: SweepOptions, rate: number, calls: number, timeoutS: number): Promise<string[]> {
  const port = String(await freePort());
  return [
    ...o.scenario,
    '-i',
    IP,
    '-p',
    port,
    '-r',
    String(rate),
    '-m',
    String(calls),
    '-timeout',
    String(timeoutS),
  ];
}

async function step(o: SweepOptions, rate: number): Promise<Step> {
  const calls = rate * o.seconds;
  const cpu0 = o.pid ? cpuSeconds(o.pid) : 0;
  const t0 = performance.now();
  const args = await sippArgs(o, rate, calls, o.seconds * 4 + 30);
  const r = await runSipp(
    [...args, '-max_socket', '50000', `${IP}:${o.target}`],
    (o.seconds * 4 + 60) * 1000,
  );
  const wall = (performance.now() - t0) / 1000;
  const cpu = o.pid ? cpuSeconds(o.pid) - cpu0 : 0;
  const ok = Number(r.stats['SuccessfulCall(C)'] ?? 0);
  const failed = Number(r.stats['FailedCall(C)'] ?? calls);
  const retrans = Number(r.stats['Retransmissions(C)'] ?? 0);
  const elapsed = r.stats['ElapsedTime(C)'] ?? '';
  const [h, m, s] = elapsed.split(':').map(Number);
  const sippSeconds = (h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? wall);
  return {
    rate,
    ok,
    failed,
    retrans,
    achieved: ok / Math.max(1, sippSeconds),
    cpuMsPerCall: o.pid && ok > 0 ? (cpu * 1000) / ok : undefined,
    clean:
      ok + failed > 0 && retrans === 0 && failed / Math.max(1, ok + failed) < 0.001 && ok >= calls * 0.999,
  };
}

function line(o: SweepOptions, s: Step): string {
  return (
    `${o.label} ${String(s.rate).padStart(5)}/s: ${String(s.ok).padStart(6)} ok, ${String(s.failed).padStart(4)} failed, ` +
    `${String(s.retrans).padStart(5)} retransmissions, ~${Math.round(s.achieved)} calls/s` +
    (s.cpuMsPerCall !== undefined
      ? `, ${o.cpuName ?? 'UAS'} CPU ${(s.cpuMsPerCall * 1000).toFixed(0)} us/call`
      : '') +
    (s.clean ? '  clean' : '  NOT clean')
  );
}

/**
 * A warm-up (not reported), then each rate in turn: the highest clean step, and the first step (the
 * same rate for every server: their CPU per call compares).
 */
export async function sweep(o: SweepOptions): Promise<{ best: Step | undefined; first: Step | undefined }> {
  // Warm-up (JIT, socket buffers).
  const warm = Math.min(500, o.rates[0] ?? 500);
  await runSipp([...(await sippArgs(o, warm, warm * 3, 30)), `${IP}:${o.target}`], 60_000);
  await new Promise((r) => setTimeout(r, 1000));
  let best: Step | undefined;
  let first: Step | undefined;
  let dirty = 0;
  for (const rate of o.rates) {
    const s = await step(o, rate);
    first ??= s;
    console.log(line(o, s));
    // A few retransmissions can be noise on a shared machine: keep climbing until the rate is
    // clearly beyond reach (failures, >1% retransmissions or the rate not achieved) twice in a row.
    const overloaded = s.failed > s.ok * 0.001 || s.retrans > s.ok * 0.01 || s.achieved < s.rate * 0.9;
    if (s.clean) best = s;
    if (!overloaded) dirty = 0;
    else if (++dirty >= 2) break;
    await new Promise((r) => setTimeout(r, 2000)); // let transactions drain between steps
  }
  return { best, first };
}
