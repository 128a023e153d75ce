/**
 * A bare SIP-over-UDP client for server tests: sends hand-built requests from a chosen loopback
 * address (127.0.0.2, 127.0.0.3, ...) and collects the responses, so a test sees exactly what a
 * peer at that address would.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parseMessage, type SipResponse } from '@parley/sip';

let seq = 0;

export interface RequestSpec {
  method: string;
  /** Request-URI without `sip:`. */
  target: string;
  from?: string;
  callId?: string;
  cseq?: number;
  headers?: Array<[string, string]>;
  /** An SDP body (sent as application/sdp). */
  sdp?: string;
}

export class UdpSipClient {
  readonly responses: SipResponse[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
    private readonly serverPort: number,
  ) {
    socket.on('message', (m) => {
      this.responses.push(parseMessage(m) as SipResponse);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(address: string, serverPort: number): Promise<UdpSipClient> {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, address, () => r()));
    return new UdpSipClient(s, address, s.address().port, serverPort);
  }

  /** The text of a request from this client (a fresh branch each time). */
  request(r: RequestSpec): string {
    const n = ++seq;
    const callId = r.callId ?? `c${n}-${process.pid}`;
    const cseq = r.cseq ?? 1;
    const extra = (r.headers ?? []).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    return (
      `${r.method} sip:${r.target} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${this.address}:${this.port};rport;branch=z9hG4bK-t${n}-${process.pid}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:${r.from ?? 'caller@example.org'}>;tag=f${n}\r\nTo: <sip:${r.target}>\r\n` +
      `Call-ID: ${callId}\r\nCSeq: ${cseq} ${r.method}\r\nContact: <sip:c@${this.address}:${this.port}>\r\n` +
      (r.sdp === undefined
        ? `${extra}Content-Length: 0\r\n\r\n`
        : `${extra}Content-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(r.sdp)}\r\n\r\n${r.sdp}`)
    );
  }

  send(text: string | Buffer): void {
    this.socket.send(typeof text === 'string' ? Buffer.from(text) : text, this.serverPort, '127.0.0.1');
  }

  /** Resolves with the first response (from index `from` on) that satisfies `match`, or undefined. */
  async next(
    match: (r: SipResponse) => boolean = () => true,
    timeoutMs = 10_000,
    from = 0,
  ): Promise<SipResponse | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.responses.slice(from).find(match);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  /** Sends a request and waits for its final response (matched by Call-ID and CSeq). */
  async exchange(text: string, timeoutMs = 10_000): Promise<SipResponse | undefined> {
    const callId = /Call-ID: (\S+)/.exec(text)![1];
    const cseq = /CSeq: (\d+)/.exec(text)![1];
    const from = this.responses.length;
    this.send(text);
    return this.next(
      (r) => r.status >= 200 && r.callId === callId && String(r.cseq.seq) === cseq,
      timeoutMs,
      from,
    );
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}
