/**
 * Runs SIPp (Debian's sip-tester) for the interop tests and benchmarks: free ports, bounded run
 * time, statistics read back from its -trace_stat file. SIPp missing is a failure, not a skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A UDP port that was free a moment ago on 127.0.0.1 (SIPp binds UDP and TCP on it). */
export async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface SippResult {
  code: number | null;
  stats: Record<string, string>;
  errors: string;
  dir: string;
}

export interface SippRun {
  child: ChildProcess;
  done: Promise<SippResult>;
}

/** Starts sipp with `args` (plus trace options) and kills it after `timeoutMs`. */
export function startSipp(args: string[], timeoutMs: number): SippRun {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const statFile = join(dir, 'stat.csv');
  const errFile = join(dir, 'errors.log');
  const child = spawn(
    'sipp',
    [...args, '-nostdin', '-trace_stat', '-stf', statFile, '-fd', '1', '-trace_err', '-error_file', errFile],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 10000) stderr += d.toString();
  });
  const done = new Promise<SippResult>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run sipp (install Debian's sip-tester): ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stats: readStats(statFile), errors: readErrors(dir, errFile) + stderr, dir });
    });
  });
  return { child, done };
}

export function runSipp(args: string[], timeoutMs: number): Promise<SippResult> {
  return startSipp(args, timeoutMs).done;
}

/** The last row of a SIPp statistics file, keyed by column name. */
export function readStats(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  if (lines.length < 2) return {};
  const head = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const out: Record<string, string> = {};
  head.forEach((h, i) => (out[h] = last[i] ?? ''));
  return out;
}

function readErrors(dir: string, errFile: string): string {
  const files = existsSync(errFile)
    ? [errFile]
    : readdirSync(dir)
        .filter((f) => f.includes('error'))
        .map((f) => join(dir, f));
  return files.map((f) => readFileSync(f, 'utf8').slice(0, 4000)).join('\n');
}

/** Directory of the scenario files next to this helper. */
export const SCENARIOS = new URL('./sipp/', import.meta.url).pathname;
