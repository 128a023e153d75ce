/**
 * UDP sockets for a plain RTP leg: an even RTP port and RTCP on the next one (RFC 3550 section 11),
 * from a configured range (a firewall's opening) or, without one, from the system's free ports.
 * Ports in use by anyone (another session, another process) are skipped; a range with no free pair
 * left gives a coded `no_ports` error rather than a socket on an unexpected port.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { MediaError } from './errors.ts';

export interface RtpSocketPair {
  readonly rtp: Socket;
  readonly rtcp: Socket;
  readonly port: number;
}

function bind(address: string, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    const onError = () => {
      socket.close();
      resolve(undefined);
    };
    socket.once('error', onError);
    socket.bind(port, address, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

async function pairAt(address: string, port: number): Promise<RtpSocketPair | undefined> {
  const rtp = await bind(address, port);
  if (!rtp) return undefined;
  const actual = rtp.address().port;
  if (actual % 2 !== 0) {
    rtp.close();
    return undefined;
  }
  const rtcp = await bind(address, actual + 1);
  if (!rtcp) {
    rtp.close();
    return undefined;
  }
  return { rtp, rtcp, port: actual };
}

/** Binds an RTP/RTCP pair on `address`, within `range` (inclusive) when given. */
export async function bindRtpPair(
  address: string,
  range?: readonly [number, number],
): Promise<RtpSocketPair> {
  if (!range) {
    for (let attempt = 0; attempt < 64; attempt++) {
      const pair = await pairAt(address, 0);
      if (pair) return pair;
    }
    throw new MediaError('no_ports', 'no free even/odd UDP port pair for RTP and RTCP');
  }
  const [lo, hi] = range;
  const first = lo + (lo % 2);
  const pairs = Math.floor((hi - first - 1) / 2) + 1;
  if (!(lo > 0 && hi <= 65535 && pairs > 0))
    throw new RangeError(`RTP port range ${lo}-${hi} has no even/odd pair`);
  // A random start spreads sessions over the range, so a recently closed port is rarely reused at once.
  const start = randomInt(0, pairs);
  for (let i = 0; i < pairs; i++) {
    const port = first + ((start + i) % pairs) * 2;
    const pair = await pairAt(address, port);
    if (pair) return pair;
  }
  throw new MediaError('no_ports', `every RTP port pair in ${lo}-${hi} is in use`);
}
