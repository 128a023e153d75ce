/**
 * A client process of bench/connections: opens idle WebSocket connections from one loopback source
 * address; on Parley each says hello and subscribes to the presence of a few users, then stays idle
 * (answering the server's pings, as browsers do).
 */
import WebSocket from 'ws';

type Command =
  | {
      cmd: 'open';
      mode: 'parley' | 'bare';
      url: string;
      tokens: string[];
      userIds: string[];
      count: number;
      subs: number;
      localAddress: string;
    }
  | { cmd: 'close' };

const sockets: WebSocket[] = [];

function open(c: Extract<Command, { cmd: 'open' }>, i: number): Promise<boolean> {
  return new Promise((resolve) => {
    const headers: Record<string, string> =
      c.mode === 'parley' ? { authorization: `Bearer ${c.tokens[i % c.tokens.length]}` } : {};
    const ws = new WebSocket(c.url, { headers, localAddress: c.localAddress, perMessageDeflate: false });
    ws.once('error', () => resolve(false));
    ws.once('open', () => {
      sockets.push(ws);
      if (c.mode === 'bare') return resolve(true);
      const watch = new Set<string>();
      for (let k = 0; watch.size < Math.min(c.subs, c.userIds.length); k++)
        watch.add(c.userIds[(i * 7919 + k * 104_729) % c.userIds.length]!);
      ws.send(JSON.stringify({ t: 'hello', id: 1, v: 1, device: { kind: 'bot' } }));
      ws.send(JSON.stringify({ t: 'presence.subscribe', id: 2, userIds: [...watch] }));
      const onMessage = (data: WebSocket.RawData) => {
        const s = data.toString();
        if (s.includes('"re":2')) {
          ws.off('message', onMessage);
          resolve(s.includes('"t":"result"'));
        }
      };
      ws.on('message', onMessage);
    });
  });
}

process.on('message', async (c: Command) => {
  if (c.cmd === 'close') {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
  let ok = 0;
  let failed = 0;
  for (let i = 0; i < c.count; i += 50) {
    const r = await Promise.all(Array.from({ length: Math.min(50, c.count - i) }, (_, k) => open(c, i + k)));
    for (const x of r) x ? ok++ : failed++;
  }
  process.send!({ opened: { ok, failed } });
});
