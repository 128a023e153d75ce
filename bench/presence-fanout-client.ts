/**
 * A child process of bench/presence-fanout: opens many WebSocket watchers and records, for every push,
 * the time from the publisher's timestamp (carried in the pushed status note as `bench:<ms>`) to
 * receipt. It does as little as possible per message (no JSON parse), so it measures the server.
 * Commands arrive over IPC from the parent.
 */
import WebSocket from 'ws';

type Command =
  | { cmd: 'open'; mode: 'parley' | 'bare'; url: string; tokens: string[]; watch: string; count: number }
  | { cmd: 'clock'; t: number }
  | { cmd: 'collect' }
  | { cmd: 'close' };

const now = () => performance.timeOrigin + performance.now();
const MARK = Buffer.from('bench:');
const sockets: WebSocket[] = [];
let latencies: number[] = [];
let received = 0;

function onMessage(data: WebSocket.RawData): void {
  const buf = data as Buffer;
  const at = buf.indexOf(MARK);
  if (at < 0) return;
  let end = at + MARK.length;
  while (end < buf.length && buf[end] !== 0x22) end++;
  const ts = Number(buf.toString('latin1', at + MARK.length, end));
  latencies.push(now() - ts);
  received++;
}

function open(c: Extract<Command, { cmd: 'open' }>, i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const token = c.tokens[i % c.tokens.length]!;
    const ws = new WebSocket(
      c.url,
      c.mode === 'parley' ? { headers: { authorization: `Bearer ${token}` } } : {},
    );
    sockets.push(ws);
    ws.once('error', reject);
    ws.once('open', () => {
      if (c.mode === 'bare') {
        ws.on('message', onMessage);
        return resolve();
      }
      ws.send(JSON.stringify({ t: 'hello', id: 1, v: 1, device: { kind: 'bot' } }));
      ws.send(JSON.stringify({ t: 'presence.subscribe', id: 2, userIds: [c.watch] }));
      ws.on('message', (data) => {
        const s = data.toString();
        if (s.includes('"re":2')) {
          ws.removeAllListeners('message');
          ws.on('message', onMessage);
          resolve();
        }
      });
    });
  });
}

process.on('message', async (c: Command) => {
  switch (c.cmd) {
    case 'open':
      for (let i = 0; i < c.count; i += 100) {
        await Promise.all(Array.from({ length: Math.min(100, c.count - i) }, (_, k) => open(c, i + k)));
      }
      process.send!({ ready: sockets.length });
      break;
    case 'clock':
      process.send!({ clock: { parent: c.t, child: now() } });
      break;
    case 'collect':
      process.send!({ received, latencies });
      latencies = [];
      received = 0;
      break;
    case 'close':
      for (const ws of sockets) ws.terminate();
      process.exit(0);
  }
});
