/**
 * Mutation fuzzing of the torture messages: random byte flips, truncations, header duplications,
 * inserted separators. Every mutant goes through the datagram parser, the stream framer (in random
 * chunks), validation, every lazy header accessor, serialization and a full endpoint with its
 * transaction layer. Only coded parse errors may come out; anything else is a bug.
 * Shared by fuzz.test.ts (bounded) and bench/sip-fuzz.ts (long run).
 */
import {
  checkRequest,
  checkResponse,
  createResponse,
  FakeClock,
  parseDatagram,
  SipEndpoint,
  SipParseError,
  SipRequest,
  StreamFramer,
  isSipUri,
  type SipMessage,
  type SipResponse,
  type Transport,
} from '../src/index.ts';

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [
  '\r\n',
  ' ',
  ';',
  ',',
  ':',
  '<',
  '>',
  '"',
  '\\',
  '%',
  '=',
  '@',
  '\0',
  '\r\n ',
  '\r\n\r\n',
  '9999999999999',
  '-1',
  'z9hG4bK',
];

/** One mutant of `input`. */
export function mutate(input: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(input);
  const ops = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < ops; k++) {
    const op = Math.floor(rnd() * 6);
    const at = Math.floor(rnd() * (b.length + 1));
    if (op === 0 && b.length > 0) {
      b[Math.min(at, b.length - 1)] ^= 1 << Math.floor(rnd() * 8);
    } else if (op === 1) {
      b = b.subarray(0, at);
    } else if (op === 2) {
      // duplicate a header line
      const text = b.toString('latin1');
      const lines = text.split('\r\n');
      if (lines.length > 2) {
        const i = 1 + Math.floor(rnd() * (lines.length - 2));
        const copies = 1 + Math.floor(rnd() * 3);
        lines.splice(i, 0, ...Array<string>(copies).fill(lines[i]!));
        b = Buffer.from(lines.join('\r\n'), 'latin1');
      }
    } else if (op === 3) {
      const s = Buffer.from(INTERESTING[Math.floor(rnd() * INTERESTING.length)]!, 'latin1');
      b = Buffer.concat([b.subarray(0, at), s, b.subarray(at)]);
    } else if (op === 4 && b.length > 0) {
      const len = Math.floor(rnd() * 16);
      b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + len))]);
    } else {
      b = Buffer.concat([b.subarray(0, at), Buffer.from([Math.floor(rnd() * 256)]), b.subarray(at)]);
    }
  }
  return b;
}

function expected(e: unknown): boolean {
  return e instanceof SipParseError;
}

function touch(m: SipMessage): void {
  const getters: Array<() => unknown> = [
    () => m.via.map(String),
    () => String(m.from),
    () => String(m.to),
    () => m.callId,
    () => m.cseq,
    () => m.maxForwards,
    () => m.contact.map(String),
    () => m.routes.map(String),
    () => m.recordRoutes.map(String),
    () => m.contentType,
    () => (m instanceof SipRequest ? String(m.uri) + (isSipUri(m.uri) ? m.uri.toAor() : '') : 0),
  ];
  for (const g of getters) {
    try {
      g();
    } catch (e) {
      if (!expected(e)) throw e;
    }
  }
}

/** A harness that runs mutants through everything; throws on any unexpected error. */
export function createFuzzHarness(seed: number) {
  const rnd = prng(seed);
  const clock = new FakeClock();
  const sent: Buffer[] = [];
  const endpoint = new SipEndpoint({
    advertisedAddress: '127.0.0.1',
    clock,
    limits: { serverTransactionsPerSource: 1000 },
    user: {
      onRequest: (tx) => {
        const r = rnd();
        if (r < 0.6) tx.respond(createResponse(tx.request, r < 0.3 ? 200 : 486));
      },
    },
  });
  const fake: Transport = {
    protocol: 'UDP',
    reliable: false,
    localAddress: '127.0.0.1',
    localPort: 5060,
    send: (d) => void (sent.length < 1000 ? sent.push(d) : sent.splice(0)),
    close: async () => {},
  };
  endpoint.addTransport(fake);
  const errors: unknown[] = [];
  endpoint.on('error', (e) => errors.push(e));
  endpoint.onListenerError = (e) => errors.push(e);
  let worstMs = 0;
  let worstInput: Buffer | null = null;

  /** Parsing, serialising and framing one message, timed alone (no endpoint, no clock). */
  function parseTime(m: Buffer): number {
    const t0 = performance.now();
    try {
      const msg = parseDatagram(m);
      touch(msg);
      touch(parseDatagram(msg.serialize()));
    } catch (e) {
      if (!expected(e)) throw e;
    }
    const framer = new StreamFramer();
    for (let pos = 0; pos < m.length; pos += 100)
      for (const ev of framer.push(m.subarray(pos, pos + 100))) if (ev.kind === 'message') touch(ev.message);
    return performance.now() - t0;
  }

  function one(input: Buffer): void {
    const m = mutate(input, rnd);
    const t0 = performance.now();
    let msg: SipMessage | undefined;
    try {
      msg = parseDatagram(m);
    } catch (e) {
      if (!expected(e)) throw e;
    }
    if (msg) {
      touch(msg);
      if (msg.isRequest) checkRequest(msg as SipRequest);
      else checkResponse(msg as SipResponse);
      const again = msg.serialize();
      try {
        touch(parseDatagram(again));
      } catch (e) {
        if (!expected(e)) throw e;
      }
    }
    const framer = new StreamFramer();
    let pos = 0;
    while (pos < m.length) {
      const n = 1 + Math.floor(rnd() * 200);
      for (const ev of framer.push(m.subarray(pos, pos + n))) if (ev.kind === 'message') touch(ev.message);
      pos += n;
    }
    const source = { protocol: 'UDP' as const, address: `10.0.0.${1 + Math.floor(rnd() * 4)}`, port: 5060 };
    try {
      const parsed = parseDatagram(m);
      endpoint.onMessage(parsed, source);
    } catch (e) {
      if (e instanceof SipParseError && 'partial' in e) endpoint.onParseError(e as never, source);
      else if (!expected(e)) throw e;
    }
    clock.advance(Math.floor(rnd() * 2000));
    if (errors.length > 0) throw errors[0];
    const ms = performance.now() - t0;
    if (ms > worstMs) {
      worstMs = ms;
      worstInput = m;
    }
  }

  return {
    one,
    get worstMs() {
      return worstMs;
    },
    /**
     * The slowest mutant parsed again, best of three: a slow input is slow every time, while a pause
     * of the machine (a GC, another process on a loaded CI host) is not the parser's.
     */
    retimeWorst(): number {
      if (!worstInput) return 0;
      const m = worstInput;
      return Math.min(parseTime(m), parseTime(m), parseTime(m));
    },
    /** Live transactions, which must stay bounded by timers. */
    get transactions() {
      return endpoint.layer.serverCount + endpoint.layer.clientCount;
    },
    drain() {
      clock.advance(10 * 60_000);
    },
  };
}
