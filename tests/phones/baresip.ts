/**
 * The desk-phone harness: Debian's baresip (1.0) as a real softphone, headless, one process per phone,
 * with a generated configuration in its own temporary folder. It speaks through the `aufile` module (a
 * WAV as its microphone, see `speechWav`), plays nothing (`aubridge,nil`), records both directions with
 * the `sndfile` module (`recordings`), and is driven over the `ctrl_tcp` module: JSON commands in
 * netstrings (`dial`, `accept`, `hangup`, `sndcode` for RFC 4733 digits, `quit`) and, on the same
 * connection, the events it raises (`CALL_INCOMING`, `CALL_ESTABLISHED`, `CALL_DTMF_START`,
 * `REGISTER_OK`...). A test waits for events (`waitFor`), never for time.
 *
 * Every socket is on 127.0.0.1 (or the address given): `sip_listen` binds UDP and TCP on a port and TLS
 * on the next one, so the port pair is found free first, and a start that loses that race to another
 * process is retried on a new pair. The account is added over the control connection (`uanew`) once
 * that is open, so the events of its first REGISTER reach the test. `PARLEY_BARESIP_TRACE=1` makes
 * baresip print every SIP message (`-s`) into the log a failure shows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One event baresip raised (the `ctrl_tcp` JSON: `type`, `param`, the call `id`, `peeruri`...). */
export interface BaresipEvent {
  type: string;
  class?: string;
  accountaor?: string;
  direction?: 'incoming' | 'outgoing';
  peeruri?: string;
  id?: string;
  param?: string;
}

export type Transport = 'udp' | 'tcp' | 'tls';

export interface PhoneAccount {
  /**
   * An account line as Parley's provisioning text gives it (address of record, credentials, outbound
   * proxy, register interval): used as written, with `answer` and `codecs` added; the fields below
   * that it already says are then ignored.
   */
  provisioned?: string;
  /** The SIP user name (the part before @ in the address of record). */
  user: string;
  /** The domain of the address of record (the tenant's SIP domain); default the phone's own address. */
  domain?: string;
  /** Digest password (RFC 3261 §22); no authentication without it. */
  password?: string;
  /** Digest user name when it differs from `user`. */
  authUser?: string;
  /** Where every request goes (the registrar/proxy): RFC 3261 §8.1.2 outbound proxy. */
  proxy?: { address: string; port: number; transport: Transport };
  /** REGISTER interval in seconds (RFC 3261 §10.2.1 Expires); 0 (default) never registers. */
  registerSeconds?: number;
  /** `auto` answers every call at once; `manual` (default) waits for `accept()`. */
  answer?: 'auto' | 'manual';
  /** Audio codecs offered, in order (baresip names: PCMU, PCMA). Default both, PCMU first. */
  codecs?: string[];
}

export interface BaresipOptions {
  /** A label for messages and the temp folder. */
  name: string;
  /** The WAV it sends as its microphone: 16-bit mono at 8 kHz (`speechWav` makes one). */
  wav: string;
  account: PhoneAccount;
  /** Local address for SIP and RTP (default 127.0.0.1). */
  address?: string;
  /** CA file (PEM) it trusts for SIP over TLS. */
  caFile?: string;
  /** How long `waitFor` waits by default (ms). */
  timeoutMs?: number;
}

/** A free TCP port on `address` whose next port is free too, and UDP free on the first. */
async function freeSipPorts(address: string): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await freeTcpPort(address);
    if (port >= 65535) continue;
    if ((await tcpFree(address, port + 1)) && (await udpFree(address, port))) return port;
  }
  throw new Error(`no free SIP port pair on ${address}`);
}

function freeTcpPort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, address, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function tcpFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, address, () => s.close(() => resolve(true)));
  });
}

function udpFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, address, () => s.close(() => resolve(true)));
  });
}

/** The account line of baresip's `accounts` file. */
export function accountLine(a: PhoneAccount, address: string, sipPort: number): string {
  const answer = [
    `answermode=${a.answer ?? 'manual'}`,
    `audio_codecs=${(a.codecs ?? ['PCMU', 'PCMA']).join(',')}`,
  ];
  if (a.provisioned) return [a.provisioned.trim(), ...answer].join(';');
  const domain = a.domain ?? `${address}:${sipPort}`;
  const params: string[] = [];
  if (a.password !== undefined) params.push(`auth_user=${a.authUser ?? a.user}`, `auth_pass=${a.password}`);
  if (a.proxy)
    params.push(`outbound="sip:${a.proxy.address}:${a.proxy.port};transport=${a.proxy.transport}"`);
  params.push(`regint=${a.registerSeconds ?? 0}`);
  params.push(...answer);
  return `<sip:${a.user}@${domain}>;${params.join(';')}`;
}

function configText(o: {
  address: string;
  sipPort: number;
  ctrlPort: number;
  wav: string;
  recordings: string;
  caFile?: string;
}): string {
  return [
    'poll_method epoll',
    `sip_listen ${o.address}:${o.sipPort}`,
    ...(o.caFile ? [`sip_cafile ${o.caFile}`] : []),
    `net_interface ${o.address}`,
    'call_local_timeout 120',
    'call_max_calls 4',
    'audio_path /usr/share/baresip',
    'audio_player aubridge,nil',
    'audio_alert aubridge,nil',
    `audio_source aufile,${o.wav}`,
    'ausrc_srate 8000',
    'auplay_srate 8000',
    'ausrc_channels 1',
    'auplay_channels 1',
    'rtp_ports 40000-49999',
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module g722.so',
    'module aufile.so',
    'module aubridge.so',
    'module sndfile.so',
    'module_app account.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen ${o.address}:${o.ctrlPort}`,
    `snd_path ${o.recordings}`,
    '',
  ].join('\n');
}

/** Splits a byte stream into netstrings (`LEN:payload,`), the framing `ctrl_tcp` uses both ways. */
export class NetstringReader {
  private buf = Buffer.alloc(0);
  constructor(private readonly onMessage: (text: string) => void) {}

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const colon = this.buf.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(this.buf.toString('latin1', 0, colon));
      if (!Number.isInteger(len))
        throw new Error(`bad netstring length ${this.buf.toString('latin1', 0, colon)}`);
      if (this.buf.length < colon + 1 + len + 1) return;
      const text = this.buf.toString('utf8', colon + 1, colon + 1 + len);
      this.buf = this.buf.subarray(colon + 1 + len + 1); // the trailing ','
      this.onMessage(text);
    }
  }
}

export const netstring = (text: string): string => `${Buffer.byteLength(text)}:${text},`;

interface Waiter {
  type: string;
  match: (e: BaresipEvent) => boolean;
  resolve: (e: BaresipEvent) => void;
}

/** Both sides of one call as baresip's `sndfile` wrote them. */
export interface Recording {
  /** What the phone sent (its microphone, before encoding). */
  sent: string;
  /** What the phone received (after decoding): the far end's audio. */
  received: string;
}

export class Baresip {
  /** Every event so far, in order; `waitFor` hands each one to at most one waiter. */
  readonly events: BaresipEvent[] = [];
  private readonly taken = new Set<BaresipEvent>();
  private waiters: Waiter[] = [];
  private readonly pending = new Map<string, { resolve: (d: string) => void; reject: (e: Error) => void }>();
  private tokens = 0;
  private output = '';
  private exited: Promise<number | null>;

  private constructor(
    readonly options: BaresipOptions,
    readonly dir: string,
    readonly address: string,
    /** UDP and TCP on this port; TLS on the next. */
    readonly sipPort: number,
    private readonly child: ChildProcess,
    private readonly ctrl: Socket,
    exited: Promise<number | null>,
    output: () => string,
  ) {
    this.exited = exited;
    this.log = output;
    const reader = new NetstringReader((text) => this.onMessage(text));
    ctrl.on('data', (d: Buffer) => reader.push(d));
  }

  /** The last few kilobytes baresip printed (for failure messages). */
  readonly log: () => string;

  /** Starts a phone and waits until it is ready and its control connection is open. */
  static async start(options: BaresipOptions): Promise<Baresip> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        return await Baresip.startOnce(options);
      } catch (err) {
        lastError = err;
        if (!/Address already in use/.test(String(err))) throw err;
      }
    }
    throw lastError;
  }

  private static async startOnce(options: BaresipOptions): Promise<Baresip> {
    const address = options.address ?? '127.0.0.1';
    const dir = mkdtempSync(join(tmpdir(), `parley-baresip-${options.name}-`));
    const recordings = join(dir, 'recordings');
    const sipPort = await freeSipPorts(address);
    const ctrlPort = await freeTcpPort(address);
    writeFileSync(
      join(dir, 'config'),
      configText({ address, sipPort, ctrlPort, wav: options.wav, recordings, caFile: options.caFile }),
    );
    // No account at start: it is added over the control connection once that is open (`uanew`), so
    // the events of its first REGISTER are not raised before anyone listens.
    writeFileSync(join(dir, 'accounts'), '');
    writeFileSync(join(dir, 'contacts'), '');
    mkdirSync(recordings); // sndfile writes into snd_path and does not make it

    const child = spawn('baresip', ['-f', dir, ...(process.env.PARLEY_BARESIP_TRACE ? ['-s'] : [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString('utf8')).slice(-6000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const fail = (why: string) => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      return new Error(`baresip ${options.name}: ${why}\n${output}`);
    };
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('not ready within 10 s')), 10_000);
        const check = () => {
          if (output.includes('baresip is ready.')) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout!.on('data', check);
        child.stderr!.on('data', check);
        child.once('error', (e) => reject(e));
        void exited.then((code) => reject(new Error(`exited with ${code} before it was ready`)));
      });
    } catch (err) {
      throw fail((err as Error).message);
    }
    const ctrl = await new Promise<Socket>((resolve, reject) => {
      const s = connect(ctrlPort, address);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    }).catch((err: Error) => {
      throw fail(`control connection: ${err.message}`);
    });
    const phone = new Baresip(options, dir, address, sipPort, child, ctrl, exited, () => output);
    try {
      await phone.command('uanew', accountLine(options.account, address, sipPort));
    } catch (err) {
      await phone.stop();
      throw err;
    }
    return phone;
  }

  /** The phone's own address of record when it is called directly (no proxy). */
  get uri(): string {
    return `sip:${this.options.account.user}@${this.address}:${this.sipPort}`;
  }

  private onMessage(text: string): void {
    const msg = JSON.parse(text) as {
      event?: boolean;
      response?: boolean;
      ok?: boolean;
      data?: string;
      token?: string;
    };
    if (msg.response && msg.token) {
      const p = this.pending.get(msg.token);
      this.pending.delete(msg.token);
      if (!p) return;
      if (msg.ok) p.resolve(msg.data ?? '');
      else p.reject(new Error(`baresip ${this.options.name}: command failed: ${msg.data ?? ''}`));
      return;
    }
    if (!msg.event) return;
    const e = msg as BaresipEvent;
    this.events.push(e);
    const w = this.waiters.find((x) => x.type === e.type && x.match(e));
    if (w) {
      this.taken.add(e);
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(e);
    }
  }

  /** Runs a long command (`dial`, `accept`, `hangup`...) and resolves with its answer text. */
  command(command: string, params?: string): Promise<string> {
    const token = `t${++this.tokens}`;
    return new Promise((resolve, reject) => {
      this.pending.set(token, { resolve, reject });
      this.ctrl.write(
        netstring(JSON.stringify({ command, ...(params === undefined ? {} : { params }), token })),
      );
    });
  }

  /**
   * The first event of `type` (matching `match`) that no earlier wait took, already raised or still
   * to come; fails after `ms` with the events seen and the phone's log.
   */
  waitFor(
    type: string,
    match: (e: BaresipEvent) => boolean = () => true,
    ms = this.options.timeoutMs ?? 15_000,
  ): Promise<BaresipEvent> {
    const seen = this.events.find((e) => e.type === type && !this.taken.has(e) && match(e));
    if (seen) {
      this.taken.add(seen);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        const types = this.events.map((e) => (e.param ? `${e.type}(${e.param})` : e.type));
        reject(
          new Error(
            `baresip ${this.options.name}: no ${type} within ${ms} ms; events: ${types.join(' ')}\n${this.log().slice(-2000)}`,
          ),
        );
      }, ms);
      const w: Waiter = {
        type,
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      this.waiters.push(w);
    });
  }

  dial(uri: string): Promise<string> {
    return this.command('dial', uri);
  }

  /** Answers the ringing call (the account's `answer` is `manual`). */
  accept(): Promise<string> {
    return this.command('accept');
  }

  hangup(): Promise<string> {
    return this.command('hangup');
  }

  /** Sends DTMF digits in the current call as RFC 4733 telephone-events. */
  sendDigits(digits: string): Promise<string> {
    return this.command('sndcode', digits);
  }

  /** The recordings of each call so far, oldest first (the files are written while the call runs). */
  recordings(): Recording[] {
    const dir = join(this.dir, 'recordings');
    const files = readdirSync(dir).sort();
    return files
      .filter((f) => f.endsWith('-enc.wav'))
      .map((f) => ({ sent: join(dir, f), received: join(dir, f.replace(/-enc\.wav$/, '-dec.wav')) }));
  }

  /** Quits (hanging up its calls), waits for the process to end, and removes its folder. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.command('quit').catch(() => {});
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
      await this.exited;
      clearTimeout(timer);
    }
    this.ctrl.destroy();
    for (const p of this.pending.values()) p.reject(new Error(`baresip ${this.options.name} stopped`));
    this.pending.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
