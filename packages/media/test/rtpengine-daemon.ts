/**
 * A real rtpengine daemon for tests (Debian's `rtpengine-daemon`, user space: `--table=-1`), started on
 * a free `ng` port of 127.0.0.1 with its own RTP port range, no configuration file, logging to stderr
 * (kept for a failure's message), `--dtls-passive` as PEERS.md measured. Ready once it answers `ping`.
 * `dtmfLogDest` points its `--dtmf-log-dest` (DTMF events as JSON over UDP) at a port of the test's.
 * `stop()` kills it (SIGKILL after a second) and is safe to call twice; `kill()` kills it at once, as a
 * crash would, for the health tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { NgClient } from '../src/index.ts';

export interface RtpengineOptions {
  /** `host:port` for `--dtmf-log-dest`. */
  dtmfLogDest?: string;
  /** Extra command-line flags. */
  args?: string[];
}

export interface Rtpengine {
  readonly host: string;
  readonly port: number;
  /** `host:port` of its ng listener, as `PARLEY_RTPENGINE_NG` says it. */
  readonly ng: string;
  readonly process: ChildProcess;
  /** What it logged so far. */
  log(): string;
  kill(): void;
  stop(): Promise<void>;
}

/** A free UDP port on 127.0.0.1 (bound then released). */
export function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function startRtpengine(o: RtpengineOptions = {}): Promise<Rtpengine> {
  const host = '127.0.0.1';
  for (let attempt = 0; ; attempt++) {
    const port = await freeUdpPort(host);
    // A block of 200 RTP ports picked at random: tests running side by side rarely share one, and
    // rtpengine skips a port another process holds.
    const portMin = 20000 + 2 * Math.floor(Math.random() * 9000);
    const args = [
      '--config-file=none',
      '--table=-1',
      `--interface=${host}`,
      `--listen-ng=${host}:${port}`,
      '--dtls-passive',
      '--foreground',
      '--log-stderr',
      '--no-log-timestamps',
      '--log-level=6',
      '--delete-delay=0',
      `--port-min=${portMin}`,
      `--port-max=${portMin + 199}`,
      ...(o.dtmfLogDest ? [`--dtmf-log-dest=${o.dtmfLogDest}`] : []),
      ...(o.args ?? []),
    ];
    const child = spawn('rtpengine', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      log = (log + d).slice(-64_000);
    });
    let exited = false;
    const exit = new Promise<void>((resolve) =>
      child.once('exit', () => {
        exited = true;
        resolve();
      }),
    );
    child.once('error', () => undefined);
    const kill = (): void => {
      if (!exited) child.kill('SIGKILL');
    };
    const probe = new NgClient({ host, port, timeoutMs: 200, retries: 0 });
    let up = false;
    for (let i = 0; i < 50 && !exited && !up; i++) {
      up = await probe.ping().catch(() => false);
    }
    probe.close();
    if (!up) {
      kill();
      await exit;
      if (attempt < 2) continue;
      throw new Error(`rtpengine did not start:\n${log}`);
    }
    return {
      host,
      port,
      ng: `${host}:${port}`,
      process: child,
      log: () => log,
      kill,
      async stop() {
        if (exited) return;
        child.kill('SIGTERM');
        const t = setTimeout(kill, 1000);
        await exit;
        clearTimeout(t);
      },
    };
  }
}
