/**
 * What every benchmark prints: the machine it ran on, and each figure beside a reference measured in
 * the same run that needs no Parley code, with their ratio. This machine's speed changes between runs by
 * up to three times, so an absolute figure alone says little; the ratio to a reference taken at the
 * same moment says how the product does against what the machine does at all.
 *
 * `--short` is every benchmark's quick mode (well under a minute; the machine is shared). The other
 * arguments keep their places: `positional` is argv without the flags.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

export const SHORT = process.argv.includes('--short');

/** Command-line arguments that are not `--` flags, in order. */
export const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));

/** The CPU clock: os.cpus() reports 0 MHz on this VM, /proc/cpuinfo has it. */
function mhz(): string {
  try {
    const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return `${Math.round(Number(m[1]))} MHz`;
  } catch {
    // not Linux
  }
  return `${cpus()[0]?.speed ?? '?'} MHz`;
}

/** One line naming the machine: vCPUs, CPU model and clock, Node, load average now. */
export function machine(): string {
  const c = cpus();
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  return `machine: ${c.length} vCPU ${c[0]?.model ?? '?'} ${mhz()}, Node ${process.version}, load average ${load}`;
}

/** Runs `f` and returns its wall-clock and process CPU time, seconds. */
export function clocked<T>(f: () => T): { value: T; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const value = f();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1e6 };
}

export interface Comparison {
  /** What was measured, e.g. "rating (credit control's path)". */
  what: string;
  figure: number;
  reference: number;
  /** Unit of both, e.g. "records/s". */
  unit: string;
  /** The reference, e.g. "bare loop over the same deck". */
  referenceName: string;
  /** For costs (µs per call, kB per connection): a ratio under 1 is then the better side. */
  lowerIsBetter?: boolean;
  digits?: number;
}

const fmt = (n: number, digits: number) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The ratio line, `RESULT what: figure unit; reference (name): ref unit; ratio r`, printed and returned. */
export function compare(c: Comparison): string {
  const d = c.digits ?? 0;
  const ratio = c.reference > 0 ? c.figure / c.reference : NaN;
  const line =
    `RESULT ${c.what}: ${fmt(c.figure, d)} ${c.unit}; reference (${c.referenceName}): ${fmt(c.reference, d)} ${c.unit}; ` +
    `ratio ${ratio.toFixed(2)} (${c.lowerIsBetter ? 'lower' : 'higher'} is better)`;
  console.log(line);
  return line;
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A figure in ms with one decimal, or '-' when there is none. */
export const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
export const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

/** Polls `f` every 20 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(f: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
