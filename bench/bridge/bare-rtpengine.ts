/**
 * bench/bridge's bare rtpengine: the daemon started for the run, and the same calls set up on it with
 * no Parley code in the path: a bencode encoder/decoder and a UDP socket written here (not
 * @parley/media's ng client), an `offer` of the browser's SDP toward the phone and an `answer` of the
 * phone's toward the browser with the ng flags the rtpengine driver sends (so the two rows differ by
 * Parley's own overhead, not by rtpengine's work), `delete` at hang-up. The media never touch this
 * process: browser and phone talk to the daemon directly.
 *
 * It is shaped as a `PhoneMedia` (like the werift relay) only so bench/bridge's step can drive it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { PhoneMedia, PhoneMediaLeg } from '../../packages/server/src/sip/phone-media.ts';

type Bencoded = string | number | Bencoded[] | { [k: string]: Bencoded };

export function bencode(v: Bencoded): string {
  if (typeof v === 'number') return `i${Math.trunc(v)}e`;
  if (typeof v === 'string') return `${Buffer.byteLength(v)}:${v}`;
  if (Array.isArray(v)) return `l${v.map(bencode).join('')}e`;
  const keys = Object.keys(v).sort();
  return `d${keys.map((k) => bencode(k) + bencode(v[k]!)).join('')}e`;
}

export function bdecode(b: Buffer): Bencoded {
  let i = 0;
  const read = (): Bencoded => {
    const c = b[i]!;
    if (c === 0x69) {
      const end = b.indexOf(0x65, i);
      const n = Number(b.toString('latin1', i + 1, end));
      i = end + 1;
      return n;
    }
    if (c === 0x6c || c === 0x64) {
      i++;
      const list: Bencoded[] = [];
      while (b[i] !== 0x65) list.push(read());
      i++;
      if (c === 0x6c) return list;
      const d: Record<string, Bencoded> = {};
      for (let k = 0; k < list.length; k += 2) d[list[k] as string] = list[k + 1]!;
      return d;
    }
    const colon = b.indexOf(0x3a, i);
    const len = Number(b.toString('latin1', i, colon));
    const s = b.toString('utf8', colon + 1, colon + 1 + len);
    i = colon + 1 + len;
    return s;
  };
  return read();
}

/** The daemon for the run: user space, free ng port, its own RTP port block, quiet log. */
export interface Daemon {
  ng: { host: string; port: number };
  process: ChildProcess;
  /** Its CPU time so far (all threads), seconds, from /proc. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function startDaemon(): Promise<Daemon> {
  const port = await freeUdpPort();
  const portMin = 50000 + 2 * Math.floor(Math.random() * 2000);
  const child = spawn(
    'rtpengine',
    [
      '--config-file=none',
      '--table=-1',
      '--interface=127.0.0.1',
      `--listen-ng=127.0.0.1:${port}`,
      '--dtls-passive',
      '--foreground',
      '--log-stderr',
      '--log-level=3',
      '--delete-delay=0',
      `--port-min=${portMin}`,
      `--port-max=${portMin + 3000}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-8000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ng = new Ng({ host: '127.0.0.1', port });
  let up = false;
  for (let i = 0; i < 50 && !up && child.exitCode === null; i++)
    up = await ng.request({ command: 'ping' }, 200).then(
      (r) => r.result === 'pong',
      () => false,
    );
  ng.close();
  if (!up) {
    child.kill('SIGKILL');
    throw new Error(`rtpengine did not start:\n${log}`);
  }
  const tick = 100; // USER_HZ on Linux
  return {
    ng: { host: '127.0.0.1', port },
    process: child,
    cpuSeconds() {
      const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / tick; // utime, stime (fields 14, 15)
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 1000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A bare ng client: one datagram per request, a random cookie, one resend after the wait. */
class Ng {
  private readonly sock: Socket = createSocket('udp4');
  private readonly waiting = new Map<string, (d: Record<string, Bencoded>) => void>();
  constructor(private readonly to: { host: string; port: number }) {
    this.sock.on('message', (m) => {
      const sp = m.indexOf(0x20);
      const cookie = m.toString('latin1', 0, sp);
      this.waiting.get(cookie)?.(bdecode(m.subarray(sp + 1)) as Record<string, Bencoded>);
      this.waiting.delete(cookie);
    });
  }
  async request(params: Record<string, Bencoded>, waitMs = 2000): Promise<Record<string, Bencoded>> {
    const cookie = randomBytes(8).toString('hex');
    const msg = Buffer.from(`${cookie} ${bencode(params)}`);
    for (let attempt = 0; attempt < 2; attempt++) {
      const reply = await new Promise<Record<string, Bencoded> | null>((resolve) => {
        const t = setTimeout(() => resolve(null), waitMs);
        this.waiting.set(cookie, (d) => {
          clearTimeout(t);
          resolve(d);
        });
        this.sock.send(msg, this.to.port, this.to.host);
      });
      if (reply) {
        if (reply.result !== 'ok' && reply.result !== 'pong')
          throw new Error(
            `rtpengine ${String(params.command)}: ${String(reply['error-reason'] ?? reply.result)}`,
          );
        return reply;
      }
    }
    throw new Error(`rtpengine ${String(params.command)}: no reply`);
  }
  close(): void {
    this.sock.close();
  }
}

/** The ng flags of the rtpengine driver (phone-media-rtpengine.ts), written out again here. */
const TO_PHONE = {
  'transport-protocol': 'RTP/AVP',
  ICE: 'remove',
  DTLS: 'off',
  'rtcp-mux': ['demux'],
  SDES: ['off'],
  flags: ['inject-DTMF'],
};
const TO_BROWSER = {
  'transport-protocol': 'UDP/TLS/RTP/SAVPF',
  ICE: 'force',
  DTLS: 'passive',
  SDES: ['off'],
  flags: ['full-rtcp-attribute', 'inject-DTMF'],
  'rtcp-mux': ['require'],
};

/** Bare rtpengine as bench/bridge drives a driver: offerRtp(browser's offer), accept, answerWebRtc. */
export function bareRtpengine(
  daemon: Daemon,
  o: { injectDtmf?: boolean } = {},
): {
  media: PhoneMedia;
  size(): number;
  close(): Promise<void>;
} {
  const ng = new Ng(daemon.ng);
  const open = new Set<object>();
  const plain = o.injectDtmf === false;
  const toPhone = plain ? { ...TO_PHONE, flags: [] } : TO_PHONE;
  const toBrowser = plain ? { ...TO_BROWSER, flags: ['full-rtcp-attribute'] } : TO_BROWSER;
  const media = {
    async offerRtp(p: { peerOffer: string }) {
      const callId = `bare-${randomBytes(9).toString('hex')}`;
      const reply = await ng.request({
        command: 'offer',
        'call-id': callId,
        'from-tag': 'browser',
        sdp: p.peerOffer,
        ...toPhone,
      });
      const leg = {
        sdp: String(reply.sdp),
        browserSdp: '',
        async accept(answer: string) {
          const r = await ng.request({
            command: 'answer',
            'call-id': callId,
            'from-tag': 'browser',
            'to-tag': 'phone',
            sdp: answer,
            ...toBrowser,
          });
          leg.browserSdp = String(r.sdp);
        },
        async close() {
          if (!open.delete(leg)) return;
          await ng.request({ command: 'delete', 'call-id': callId }).catch(() => {});
        },
      };
      open.add(leg);
      return leg;
    },
    async answerWebRtc(_offer: string, o: { peer: { browserSdp: string } }) {
      return { sdp: o.peer.browserSdp, close: async () => {} };
    },
    bridge() {},
  } as unknown as PhoneMedia;
  return {
    media,
    size: () => open.size,
    close: async () => ng.close(),
  };
}

export type { PhoneMediaLeg };
