/**
 * A client of rtpengine's `ng` control protocol: each request is one UDP datagram
 * `<cookie> <bencoded dictionary>` with the command in its `command` key; the reply is the same
 * cookie and a dictionary whose `result` is `ok`, `pong` or `error` (with `error-reason`).
 *
 * Retries resend the very same datagram, cookie included: rtpengine keeps replies by cookie for a
 * while, so a retried `offer` whose first reply was lost is answered from that cache instead of being
 * run twice. A reply to a cookie we no longer wait for (a late duplicate) is dropped.
 *
 *   request ──send──> waiting ──reply──> resolved (ok/pong) | rejected ng_refused (error)
 *                        │  └─ attempt timer ─> resend (same cookie), up to `retries` times
 *                        └─ after the last attempt ─> rejected ng_timeout
 *
 * Knows nothing of Parley: the caller gives the flags (rtpengine's own names) and reads the reply.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { bdecode, bencode, type BencodeValue } from './bencode.ts';
import { NgError } from './errors.ts';

export type NgDict = { [key: string]: BencodeValue };

export interface NgClientOptions {
  host: string;
  port: number;
  /** How long one attempt waits for its reply. */
  timeoutMs?: number;
  /** Resends after the first attempt (same cookie). */
  retries?: number;
}

interface Pending {
  resolve(reply: NgDict): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class NgClient {
  readonly host: string;
  readonly port: number;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private socket: Socket | undefined;
  private ready: Promise<Socket> | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly prefix = randomBytes(4).toString('hex');
  private seq = 0;
  private closed = false;

  constructor(o: NgClientOptions) {
    this.host = o.host;
    this.port = o.port;
    this.timeoutMs = o.timeoutMs ?? 1000;
    this.retries = o.retries ?? 2;
  }

  /** `host:port`, as the node is named in logs and settings. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  private open(): Promise<Socket> {
    this.ready ??= new Promise((resolve, reject) => {
      const family = this.host.includes(':') ? 'udp6' : 'udp4';
      const s = createSocket(family);
      s.on('message', (msg) => this.onMessage(msg));
      s.on('error', () => undefined); // ICMP unreachable and the like: the attempt timer decides
      s.once('error', reject);
      s.bind(0, family === 'udp4' ? undefined : '::', () => {
        s.off('error', reject);
        if (this.closed) s.close();
        this.socket = s;
        resolve(s);
      });
    });
    return this.ready;
  }

  private onMessage(msg: Buffer): void {
    const space = msg.indexOf(0x20);
    if (space <= 0) return;
    const cookie = msg.toString('ascii', 0, space);
    const p = this.pending.get(cookie);
    if (!p) return;
    this.pending.delete(cookie);
    clearTimeout(p.timer);
    let reply: BencodeValue;
    try {
      reply = bdecode(msg.subarray(space + 1));
    } catch (err) {
      p.reject(err as Error);
      return;
    }
    if (reply === null || typeof reply !== 'object' || Array.isArray(reply)) {
      p.reject(new NgError('invalid_bencode', 'the reply is not a dictionary'));
      return;
    }
    if (reply.result === 'error') {
      const reason = typeof reply['error-reason'] === 'string' ? reply['error-reason'] : 'no reason given';
      p.reject(new NgError('ng_refused', `rtpengine ${this.address} refused: ${reason}`));
      return;
    }
    p.resolve(reply);
  }

  /** Sends one command (`offer`, `answer`, `delete`, `query`, `ping`, ...) and waits for its reply. */
  async request(command: string, params: NgDict = {}): Promise<NgDict> {
    if (this.closed) throw new NgError('ng_closed', 'the ng client is closed');
    const socket = await this.open();
    const cookie = `${this.prefix}_${++this.seq}`;
    const datagram = Buffer.concat([Buffer.from(`${cookie} `), bencode({ ...params, command })]);
    return new Promise<NgDict>((resolve, reject) => {
      let attempt = 0;
      const send = (): void => {
        socket.send(datagram, this.port, this.host);
        const p = this.pending.get(cookie);
        const timer = setTimeout(() => {
          if (attempt++ < this.retries) return send();
          this.pending.delete(cookie);
          reject(
            new NgError(
              'ng_timeout',
              `rtpengine ${this.address} did not answer ${command} (${this.retries + 1} tries, ${this.timeoutMs} ms each)`,
            ),
          );
        }, this.timeoutMs);
        if (p) p.timer = timer;
        else this.pending.set(cookie, { resolve, reject, timer });
      };
      send();
    });
  }

  /** `ping`: true when the node answers `pong`. */
  async ping(): Promise<boolean> {
    const r = await this.request('ping');
    return r.result === 'pong';
  }

  offer(params: NgDict): Promise<NgDict> {
    return this.request('offer', params);
  }

  answer(params: NgDict): Promise<NgDict> {
    return this.request('answer', params);
  }

  delete(params: NgDict): Promise<NgDict> {
    return this.request('delete', params);
  }

  query(params: NgDict): Promise<NgDict> {
    return this.request('query', params);
  }

  /** Closes the socket; requests still waiting fail with `ng_closed`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new NgError('ng_closed', 'the ng client closed while waiting'));
    }
    this.pending.clear();
    this.socket?.close();
  }
}
