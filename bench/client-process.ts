/**
 * The load clients of a benchmark run in a child process, so their CPU is not the server's: this forks
 * one (a TypeScript file beside the benchmark) and asks it things over IPC, one answer per question.
 */
import { fork, type ChildProcess } from 'node:child_process';

/** Forks the client script `file` (a URL, usually `new URL('./x-client.ts', import.meta.url)`). */
export function forkClient(file: URL): ChildProcess {
  return fork(file.pathname, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Sends `msg` and resolves with the `key` field of the first answer that has one; rejects if the client exits. */
export function ask<T>(c: ChildProcess, msg: object, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: Record<string, unknown>) => {
      if (key in m) {
        c.off('message', on);
        c.off('exit', gone);
        resolve(m[key] as T);
      }
    };
    const gone = (code: number) => reject(new Error(`the client process exited (${code})`));
    c.on('message', on);
    c.once('exit', gone);
    c.send(msg);
  });
}

/** The p-th percentile of sorted latencies (NaN when there are none). */
export const pct = (sorted: Float64Array, p: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]! : NaN;

/**
 * Lateness of one stream's arrivals, `log` holding (arrival ms, RTP timestamp) pairs: arrival minus
 * the timestamp schedule, the earliest packet at 0; repeats are counted once, and `expected` is the
 * span of frames the timestamps cover.
 */
export function latenessOf(
  log: number[],
  frameTicks: number,
  clockRate: number,
): { lateness: number[]; expected: number; received: number } {
  if (log.length < 4) return { lateness: [], expected: 0, received: log.length / 2 };
  const at0 = log[0]!;
  const ts0 = log[1]!;
  const seen = new Set<number>();
  const raw: number[] = [];
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < log.length; i += 2) {
    const ticks = ((log[i + 1]! - ts0) | 0) / frameTicks; // signed: wraps of the 32-bit timestamp
    if (seen.has(ticks)) continue;
    seen.add(ticks);
    lo = Math.min(lo, ticks);
    hi = Math.max(hi, ticks);
    raw.push(log[i]! - at0 - (ticks * frameTicks * 1000) / clockRate);
  }
  const min = Math.min(...raw);
  return { lateness: raw.map((x) => x - min), expected: hi - lo + 1, received: seen.size };
}
