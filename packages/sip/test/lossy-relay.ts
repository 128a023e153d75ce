/**
 * A UDP relay that drops a share of datagrams in both directions, deterministically (seeded), to
 * prove that retransmissions complete calls. One client side (SIPp) and one server side.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';

export interface LossyRelay {
  port: number;
  dropped: number;
  forwarded: number;
  close(): Promise<void>;
}

export async function startLossyRelay(opts: {
  server: { address: string; port: number };
  lossRate: number;
  seed?: number;
}): Promise<LossyRelay> {
  let seed = opts.seed ?? 12345;
  const random = (): number => {
    // xorshift32: repeatable loss pattern
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => back.bind(0, '127.0.0.1', () => r()));
  let client: RemoteInfo | undefined;
  const relay: LossyRelay = {
    port: front.address().port,
    dropped: 0,
    forwarded: 0,
    close: async () => {
      await new Promise<void>((r) => front.close(() => r()));
      await new Promise<void>((r) => back.close(() => r()));
    },
  };
  front.on('message', (data, rinfo) => {
    client = rinfo;
    if (random() < opts.lossRate) relay.dropped++;
    else {
      relay.forwarded++;
      back.send(data, opts.server.port, opts.server.address);
    }
  });
  back.on('message', (data) => {
    if (!client) return;
    if (random() < opts.lossRate) relay.dropped++;
    else {
      relay.forwarded++;
      front.send(data, client.port, client.address);
    }
  });
  return relay;
}
