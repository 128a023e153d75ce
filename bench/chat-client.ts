/**
 * The child process of bench/chat: holds the realtime sockets of the senders and the receivers. Senders
 * send `chat.send` frames open loop at the rate asked, each text carrying the instant it was due
 * (`b:<ms>`); receivers record, for every `chat.message` push, the time from that instant to receipt
 * (the same process's clock, so no offset). Commands arrive over IPC from the parent.
 */
import WebSocket from 'ws';

export type ClientCommand =
  | {
      cmd: 'open';
      url: string;
      /** One socket per sender: its token and the conversation it sends to. */
      senders: Array<{ token: string; conversationId: string }>;
      /** One socket per receiving device. */
      receivers: string[];
    }
  | { cmd: 'drive'; rate: number; seconds: number; settleMs: number }
  | { cmd: 'close' };

export interface DriveResult {
  sent: number;
  acked: number;
  errors: Record<string, number>;
  received: number;
  latencies: number[];
  /** How long sending really took, s (a sender held up by a busy machine takes longer). */
  elapsed: number;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MARK = Buffer.from('"text":"b:');
const senders: Array<{ ws: WebSocket; conversationId: string }> = [];
const receivers: WebSocket[] = [];
let latencies: number[] = [];
let received = 0;
let acked = 0;
let errors: Record<string, number> = {};
let nextId = 10;
let run = 0;

/** A push to a receiver: finds the stamp without parsing the whole frame. */
function onPush(data: WebSocket.RawData): void {
  const buf = data as Buffer;
  const at = buf.indexOf(MARK);
  if (at < 0) return;
  let end = at + MARK.length;
  while (end < buf.length && buf[end] !== 0x20) end++;
  latencies.push(now() - Number(buf.toString('latin1', at + MARK.length, end)));
  received++;
}

/** What the sender's socket hears: the answers to its sends (its own pushes are ignored). */
function onAnswer(data: WebSocket.RawData): void {
  const s = (data as Buffer).toString('latin1', 0, 40);
  if (s.startsWith('{"t":"result"')) acked++;
  else if (s.startsWith('{"t":"error"')) {
    const code = /"code":"([a-z_]+)"/.exec((data as Buffer).toString())?.[1] ?? '?';
    errors[code] = (errors[code] ?? 0) + 1;
  }
}

function connect(url: string, token: string, onMessage: (d: WebSocket.RawData) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify({ t: 'hello', id: 1, v: 1, device: { kind: 'bot' } }));
      ws.once('message', () => {
        ws.on('message', onMessage);
        resolve(ws);
      });
    });
  });
}

async function open(c: Extract<ClientCommand, { cmd: 'open' }>): Promise<void> {
  for (let i = 0; i < c.receivers.length; i += 100)
    receivers.push(
      ...(await Promise.all(c.receivers.slice(i, i + 100).map((t) => connect(c.url, t, onPush)))),
    );
  for (const s of c.senders)
    senders.push({ ws: await connect(c.url, s.token, onAnswer), conversationId: s.conversationId });
}

/** Sends `rate` messages per second for `seconds`, round robin over the senders, then lets them land. */
async function drive(rate: number, seconds: number, settleMs: number): Promise<DriveResult> {
  latencies = [];
  received = 0;
  acked = 0;
  errors = {};
  run++;
  const total = Math.round(rate * seconds);
  const start = now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - start) / 1000) * rate) + 1);
    while (sent < due) {
      const s = senders[sent % senders.length]!;
      const stamp = (start + (sent * 1000) / rate).toFixed(3);
      s.ws.send(
        `{"t":"chat.send","id":${nextId++},"conversationId":"${s.conversationId}","clientMessageId":"r${run}-${sent}","text":"b:${stamp} hello from the benchmark"}`,
      );
      sent++;
    }
    await sleep(1);
  }
  const elapsed = (now() - start) / 1000;
  // Every answer in, then the pushes: until nothing more arrives for a while.
  const deadline = now() + settleMs;
  let last = -1;
  while (
    now() < deadline &&
    (acked + Object.values(errors).reduce((a, b) => a + b, 0) < sent || received !== last)
  ) {
    last = received;
    await sleep(100);
  }
  return { sent, acked, errors, received, latencies, elapsed };
}

process.on('message', async (c: ClientCommand) => {
  switch (c.cmd) {
    case 'open':
      await open(c);
      process.send!({ ready: senders.length + receivers.length });
      break;
    case 'drive':
      process.send!({ result: await drive(c.rate, c.seconds, c.settleMs) });
      break;
    case 'close':
      for (const ws of [...receivers, ...senders.map((s) => s.ws)]) ws.terminate();
      process.exit(0);
  }
});
