/**
 * A bare SIP phone for registrar tests, over UDP, TCP or TLS from a chosen loopback address: it registers
 * with digest (choosing SHA-256 or MD5 from the challenges), answers OPTIONS keep-alives while told
 * to, and records every request it gets with the connection it came on, so a test sees what a desk
 * phone would.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  answerChallenge,
  parseMessage,
  StreamFramer,
  type DigestAlgorithm,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '@parley/sip';

let seq = 0;

export interface RegisterSpec {
  /** Contact values (`<sip:...>;expires=N`), or `*`; default: this phone's own contact. */
  contacts?: string[] | '*';
  expires?: number;
  algorithm?: DigestAlgorithm;
  /** Default: the phone's password. */
  password?: string;
  /** The address-of-record in To (default: username@domain). */
  to?: string;
  callId?: string;
  /** CSeq of the authenticated request (default: the next one). */
  cseq?: number;
}

export class TestPhone {
  readonly requests: Array<{ request: SipRequest; connection: number }> = [];
  readonly responses: SipResponse[] = [];
  /** Whether OPTIONS are answered (a vanished phone answers nothing). */
  answering = true;
  /** CRLF pongs received (streams). */
  pongs = 0;
  private waiters: Array<() => void> = [];
  private cseq = 0;
  readonly callId = `reg-${++seq}-${process.pid}`;
  private udp?: UdpSocket;
  private tcp?: TcpSocket;
  /** Which TCP connection this is (a reconnect makes another). */
  connection = 0;
  port = 0;

  private constructor(
    readonly protocol: 'UDP' | 'TCP' | 'TLS',
    readonly address: string,
    private readonly server: { port: number; address: string },
    readonly username: string,
    readonly domain: string,
    readonly password: string,
  ) {}

  static async open(o: {
    protocol?: 'UDP' | 'TCP' | 'TLS';
    address: string;
    serverPort: number;
    username: string;
    domain: string;
    password: string;
  }): Promise<TestPhone> {
    const p = new TestPhone(
      o.protocol ?? 'UDP',
      o.address,
      { port: o.serverPort, address: '127.0.0.1' },
      o.username,
      o.domain,
      o.password,
    );
    if (p.protocol === 'UDP') {
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, o.address, () => r()));
      s.on('message', (m) => p.receive(parseMessage(m), 0));
      p.udp = s;
      p.port = s.address().port;
    } else await p.connect();
    return p;
  }

  /** Opens (or reopens) the TCP or TLS connection (TLS: the server's certificate is not checked). */
  async connect(): Promise<void> {
    const where = { host: this.server.address, port: this.server.port, localAddress: this.address };
    const tls = this.protocol === 'TLS';
    const s = tls ? tlsConnect({ ...where, rejectUnauthorized: false }) : connect(where);
    await new Promise<void>((resolve, reject) => {
      s.once(tls ? 'secureConnect' : 'connect', resolve);
      s.once('error', reject);
    });
    const framer = new StreamFramer();
    const id = ++this.connection;
    s.on('data', (chunk: Buffer) => {
      // A pong is one CRLF between messages (RFC 5626 section 4.4.1); the framer skips it.
      if (framer.buffered === 0 && chunk.length >= 2 && chunk[0] === 13 && chunk[1] === 10) this.pongs++;
      for (const ev of framer.push(chunk)) if (ev.kind === 'message') this.receive(ev.message, id);
      this.wake();
    });
    s.on('error', () => {});
    this.tcp = s;
    this.port = s.localPort!;
  }

  get contact(): string {
    if (this.protocol === 'TLS') return `<sips:${this.username}@${this.address}:${this.port}>`;
    const t = this.protocol === 'TCP' ? ';transport=tcp' : '';
    return `<sip:${this.username}@${this.address}:${this.port}${t}>`;
  }

  private receive(msg: SipMessage, connection: number): void {
    if (msg.isRequest) {
      const req = msg as SipRequest;
      this.requests.push({ request: req, connection });
      if (req.method === 'OPTIONS' && this.answering) this.send(responseTo(req, 200));
    } else this.responses.push(msg as SipResponse);
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(text: string | Buffer): void {
    const b = typeof text === 'string' ? Buffer.from(text) : text;
    if (this.udp) this.udp.send(b, this.server.port, this.server.address);
    else this.tcp!.write(b);
  }

  /** Waits for `cond` to hold (re-checked at every message), up to `timeoutMs`. */
  async until(cond: () => boolean, timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (cond()) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  private registerText(spec: RegisterSpec, cseq: number, auth?: string): string {
    const via = `SIP/2.0/${this.protocol} ${this.address}:${this.port};rport;branch=z9hG4bK-r${++seq}-${process.pid}`;
    const contacts = spec.contacts ?? [this.contact];
    const contactLines =
      contacts === '*' ? 'Contact: *\r\n' : contacts.map((c) => `Contact: ${c}\r\n`).join('');
    return (
      `REGISTER sip:${this.domain} SIP/2.0\r\nVia: ${via}\r\nMax-Forwards: 70\r\n` +
      `From: <sip:${this.username}@${this.domain}>;tag=t${this.callId}\r\n` +
      `To: <sip:${spec.to ?? `${this.username}@${this.domain}`}>\r\n` +
      `Call-ID: ${spec.callId ?? this.callId}\r\nCSeq: ${cseq} REGISTER\r\n${contactLines}` +
      (spec.expires !== undefined ? `Expires: ${spec.expires}\r\n` : '') +
      (auth ? `Authorization: ${auth}\r\n` : '') +
      `User-Agent: parley-test-phone\r\nContent-Length: 0\r\n\r\n`
    );
  }

  private async exchange(text: string, cseq: number, callId: string): Promise<SipResponse> {
    const from = this.responses.length;
    this.send(text);
    let hit: SipResponse | undefined;
    await this.until(() => {
      hit = this.responses
        .slice(from)
        .find((r) => r.status >= 200 && r.callId === callId && r.cseq.seq === cseq);
      return hit !== undefined;
    });
    if (!hit) throw new Error(`no answer to CSeq ${cseq}`);
    return hit;
  }

  /** Sends a REGISTER, answers its challenge, and resolves with the final response. */
  async register(spec: RegisterSpec = {}): Promise<SipResponse> {
    const callId = spec.callId ?? this.callId;
    const first = ++this.cseq;
    const challenge = await this.exchange(this.registerText(spec, first), first, callId);
    if (challenge.status !== 401) return challenge;
    const alg = spec.algorithm ?? 'SHA-256';
    const value = challenge
      .getAll('www-authenticate')
      .find((v) => new RegExp(`algorithm=${alg}(,|$|\\s)`).test(v));
    if (!value) throw new Error(`no ${alg} challenge`);
    const auth = answerChallenge(
      value,
      { username: this.username, password: spec.password ?? this.password },
      'REGISTER',
      `sip:${this.domain}`,
    )!;
    const second = spec.cseq ?? ++this.cseq;
    return this.exchange(this.registerText(spec, second, auth), second, callId);
  }

  /** Sends a CRLF ping (RFC 5626 section 4.4.1) on the stream. */
  ping(): void {
    this.tcp!.write('\r\n\r\n');
  }

  /** Drops the TCP connection (the phone vanished, or its NAT forgot it). */
  disconnect(): void {
    this.tcp?.destroy();
  }

  close(): Promise<void> {
    if (this.udp) {
      const s = this.udp;
      return new Promise((r) => s.close(() => r()));
    }
    this.tcp?.destroy();
    return Promise.resolve();
  }
}

function responseTo(req: SipRequest, status: number): string {
  const copy = ['via', 'from', 'to', 'call-id', 'cseq']
    .flatMap((h) => req.getAll(h).map((v) => `${h}: ${v}${h === 'to' && !/tag=/.test(v) ? ';tag=p' : ''}`))
    .join('\r\n');
  return `SIP/2.0 ${status} OK\r\n${copy}\r\nContent-Length: 0\r\n\r\n`;
}
