/**
 * The caller of bench/sip-dialogs over TLS (Debian's SIPp has no TLS) and, for a like-for-like
 * baseline, over UDP: the same scenario as bench/sipp/uac-reinvite.xml (INVITE/200/ACK, re-INVITE
 * putting the call on hold/200/ACK, BYE/200), paced at a rate, in its own process. Over TLS the
 * calls are spread over a few long-lived connections, as phones behind one proxy would be. It never
 * retransmits: a lost datagram is a failed call, so a clean UDP step is one with no loss.
 *
 *   node --import tsx bench/sip-dialogs-client.ts udp|tls PORT RATE SECONDS [CONNECTIONS=16] [CA]
 * Prints one JSON line: {"ok":N,"failed":N}.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';
import { parseDatagram, type SipResponse, StreamFramer } from '../packages/sip/src/index.ts';

const [transport, portArg, rateArg, secondsArg, connArg, caPath] = process.argv.slice(2);
const IP = '127.0.0.1';
const port = Number(portArg);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const connections = Number(connArg ?? 16);
const TLS = transport === 'tls';
const CALL_TIMEOUT_MS = 10_000;

type Send = (data: string) => void;
const senders: Array<{ send: Send; localPort: number }> = [];

interface Call {
  id: number;
  toTag?: string;
  step: 1 | 2 | 3;
  sender: { send: Send; localPort: number };
  timer: NodeJS.Timeout;
}
const calls = new Map<string, Call>();
let ok = 0;
let failed = 0;
let started = 0;

const sdp = (version: number, dir: string) =>
  `v=0\r\no=bench 1 ${version} IN IP4 ${IP}\r\ns=-\r\nc=IN IP4 ${IP}\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=${dir}\r\n`;

function request(c: Call, method: string, cseq: number, body = ''): string {
  const proto = TLS ? 'TLS' : 'UDP';
  const to = `<sip:service@${IP}:${port}>${c.toTag ? `;tag=${c.toTag}` : ''}`;
  return (
    `${method} sip:service@${IP}:${port} SIP/2.0\r\n` +
    `Via: SIP/2.0/${proto} ${IP}:${c.sender.localPort};branch=z9hG4bK-${process.pid}-${c.id}-${method}-${cseq};rport\r\n` +
    `From: <sip:bench@${IP}>;tag=b${c.id}\r\nTo: ${to}\r\nCall-ID: ${process.pid}-${c.id}@bench\r\n` +
    `CSeq: ${cseq} ${method}\r\nContact: <sip${TLS ? 's' : ''}:bench@${IP}:${c.sender.localPort}>\r\n` +
    `Max-Forwards: 70\r\n` +
    (body ? 'Content-Type: application/sdp\r\n' : '') +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

function onResponse(res: SipResponse): void {
  const c = calls.get(res.callId);
  if (!c || res.status < 200) return;
  if (res.status >= 300) return finish(c, false);
  const method = res.cseq.method;
  if (method === 'INVITE' && res.cseq.seq === c.step) {
    c.toTag ??= res.to.tag;
    c.sender.send(request(c, 'ACK', c.step));
    if (c.step === 1) {
      c.step = 2;
      c.sender.send(request(c, 'INVITE', 2, sdp(2, 'sendonly')));
    } else {
      c.step = 3;
      c.sender.send(request(c, 'BYE', 3));
    }
  } else if (method === 'BYE') finish(c, true);
}

function finish(c: Call, good: boolean): void {
  clearTimeout(c.timer);
  calls.delete(`${process.pid}-${c.id}@bench`);
  if (good) ok++;
  else failed++;
}

function place(): void {
  const id = ++started;
  const sender = senders[id % senders.length]!;
  const c: Call = {
    id,
    step: 1,
    sender,
    timer: setTimeout(() => finish(c, false), CALL_TIMEOUT_MS),
  };
  calls.set(`${process.pid}-${id}@bench`, c);
  sender.send(request(c, 'INVITE', 1, sdp(1, 'sendrecv')));
}

if (TLS) {
  const ca = readFileSync(caPath!, 'utf8');
  for (let i = 0; i < connections; i++) {
    const sock: TLSSocket = connect({ host: IP, port, ca });
    await new Promise<void>((r) => sock.once('secureConnect', () => r()));
    sock.setNoDelay(true);
    const framer = new StreamFramer();
    sock.on('data', (d) => {
      for (const ev of framer.push(d)) if (ev.kind === 'message') onResponse(ev.message as SipResponse);
    });
    senders.push({ send: (d) => void sock.write(d), localPort: sock.localPort! });
  }
} else {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, IP, () => r()));
  sock.on('message', (m) => onResponse(parseDatagram(m) as SipResponse));
  senders.push({ send: (d) => sock.send(d, port, IP), localPort: sock.address().port });
}

// Pace the calls every 10 ms; a fraction carries over.
const total = rate * seconds;
let due = 0;
const pacer = setInterval(() => {
  due += rate / 100;
  while (due >= 1 && started < total) {
    place();
    due--;
  }
  if (started >= total) clearInterval(pacer);
}, 10);
await new Promise<void>((resolve) => {
  const check = setInterval(() => {
    if (started >= total && calls.size === 0) {
      clearInterval(check);
      resolve();
    }
  }, 20);
});
console.log(JSON.stringify({ ok, failed }));
process.exit(0);
