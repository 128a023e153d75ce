/** User agents on the in-memory network with a fake clock, for the user-agent core tests. */
import {
  FakeClock,
  MemoryNetwork,
  type Peer,
  parseMessage,
  type SipMessage,
  UserAgentCore,
  type UserAgentOptions,
} from '../src/index.ts';

export const ALLOW = [
  'INVITE',
  'ACK',
  'CANCEL',
  'BYE',
  'OPTIONS',
  'UPDATE',
  'INFO',
  'REFER',
  'SUBSCRIBE',
  'NOTIFY',
];

export function peer(address: string, port = 5060): Peer {
  return { protocol: 'UDP', address, port };
}

/** A user-agent core bound at `address:5060` on `net`. */
export function makeUa(
  net: MemoryNetwork,
  clock: FakeClock,
  address: string,
  opts: Partial<UserAgentOptions> = {},
): UserAgentCore {
  const ua = new UserAgentCore({
    advertisedAddress: address,
    clock,
    tryingDelayMs: -1,
    policy: {
      allow: ALLOW,
      supported: ['timer'],
      accept: ['application/sdp', 'message/sipfrag', 'text/plain', 'application/simple-message-summary'],
      isLocalTarget: () => true,
    },
    ...opts,
  });
  ua.endpoint.onListenerError = (e) => {
    throw e;
  };
  ua.endpoint.addTransport(net.bind(address, 5060, ua.endpoint));
  return ua;
}

export function world(): { net: MemoryNetwork; clock: FakeClock } {
  return { net: new MemoryNetwork(), clock: new FakeClock() };
}

export const flush = async (): Promise<void> => {
  for (let i = 0; i < 30; i++) await Promise.resolve();
};

/** Moves fake time forward in 10 ms steps, running microtasks (deliveries) between steps. */
export async function run(clock: FakeClock, ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await flush();
    clock.advance(step);
  }
  await flush();
}

/** Runs microtasks and fake time until `p` settles. */
export async function settle<T>(clock: FakeClock, p: Promise<T>, maxMs = 200_000): Promise<T> {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  p.then(
    (v) => ((done = true), (value = v)),
    (e) => ((done = true), (error = e)),
  );
  for (let t = 0; t < maxMs && !done; t += 10) {
    await flush();
    clock.advance(10);
  }
  await flush();
  if (!done) throw new Error('did not settle');
  if (error) throw error;
  return value as T;
}

/** Messages sent on the network, parsed, optionally only those a predicate keeps. */
export function sent(net: MemoryNetwork, keep: (m: SipMessage, to: Peer) => boolean = () => true) {
  return net.log
    .map((e) => ({ to: e.to, from: e.from, msg: parseMessage(e.data) }))
    .filter((e) => keep(e.msg, e.to));
}

export const isReq = (m: SipMessage, method: string): boolean =>
  m.isRequest && (m as unknown as { method: string }).method === method;

export const SDP = (port: number, dir = 'sendrecv') =>
  `v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=${dir}\r\n`;
