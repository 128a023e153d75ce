/**
 * Debian's coturn (`turnserver`) for the TURN call test: started on 127.0.0.1 and a free port, relaying
 * on 127.0.0.1 only (no other network), with loopback peers allowed (both browsers are on this machine)
 * and coturn's REST credential scheme (`--use-auth-secret`: user `expiry:name`, password
 * base64(HMAC-SHA1(secret, user))), which is what the Parley server hands out from `PARLEY_TURN_SECRET`.
 *
 * It is ready when it answers a STUN Binding request (RFC 8489 section 6). A missing `turnserver`
 * rejects (the test fails, never skips): `scripts/test-all.sh` installs the `coturn` package.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TurnServer {
  port: number;
  /** `turn:127.0.0.1:PORT?transport=udp` and `...tcp`, for `PARLEY_TURN_URLS`. */
  urls: string[];
  secret: string;
  /** What coturn printed (for a failure's message). */
  log(): string;
  stop(): Promise<void>;
}

/** A port free for both UDP and TCP on 127.0.0.1 (coturn listens on both). */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => resolve(udp.address().port));
    });
    const tcpFree = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    udp.close();
    if (tcpFree) return port;
  }
  throw new Error('no port free for both UDP and TCP on 127.0.0.1');
}

/** Whether a STUN server answers a Binding request on 127.0.0.1:port within `ms`. */
function stunAnswers(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const txId = randomBytes(12);
    // Header: type 0x0001 (Binding request), length 0, magic cookie 0x2112A442, transaction id.
    const req = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), txId]);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    sock.on('message', (m) => {
      // 0x0101: Binding success response, for our transaction.
      if (m.length >= 20 && m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(txId)) done(true);
    });
    sock.on('error', () => done(false));
    sock.send(req, port, '127.0.0.1');
  });
}

export async function startTurnServer(): Promise<TurnServer> {
  const port = await freePort();
  const secret = randomBytes(16).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'parley-turn-'));
  const args = [
    '-n', // no configuration file: everything is on this command line
    '--no-cli',
    '--no-tls',
    '--no-dtls',
    '--listening-ip=127.0.0.1',
    '--relay-ip=127.0.0.1',
    `--listening-port=${port}`,
    '--allow-loopback-peers',
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    '--realm=parley.test',
    '--log-file=stdout',
    '--simple-log',
    `--pidfile=${join(dir, 'turnserver.pid')}`,
    `--userdb=${join(dir, 'turndb')}`,
  ];
  let output = '';
  let exited: string | null = null;
  const child: ChildProcess = spawn('turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => (exited = `exited (${code ?? signal})`));
  child.once('error', () => (exited ??= 'could not be started'));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'ENOENT'
            ? 'turnserver is not installed: apt-get install coturn (scripts/test-all.sh does)'
            : `turnserver did not start: ${err.message}`,
        ),
      ),
    ),
  );
  const stop = async () => {
    if (exited === null) {
      child.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const ready = (async () => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (exited !== null) throw new Error(`turnserver ${exited}:\n${output}`);
      if (await stunAnswers(port, 200)) return;
    }
    throw new Error(`turnserver did not answer STUN on port ${port} within 10 s:\n${output}`);
  })();
  ready.catch(() => {}); // when the spawn error wins the race, this one's rejection is not news
  try {
    await Promise.race([ready, spawnError]);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    urls: [`turn:127.0.0.1:${port}?transport=udp`, `turn:127.0.0.1:${port}?transport=tcp`],
    secret,
    log: () => output,
    stop,
  };
}
