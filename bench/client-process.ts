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
