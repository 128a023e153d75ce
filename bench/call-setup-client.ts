/**
 * The child process of bench/call-setup: holds the realtime sockets of caller and callee pairs and
 * drives calls through them, signalling only (no media). Each call is placed by a free pair's caller
 * (`call.place` with an SDP offer), rings on the callee (`call.incoming`: the latency is from sending
 * the place to this push, one process's clock), is answered (`call.answer`), and once the caller sees
 * it connected, hung up (`call.hangup`); the pair is free again when the caller's hang-up is answered
 * and the callee saw the end. The same frames go to Parley or to the bare relay of the reference.
 * Commands arrive over IPC from the parent.
 */
import WebSocket from 'ws';

export interface Pair {
  callerToken: string;
  calleeToken: string;
  calleeId: string;
}

export type ClientCommand =
  | { cmd: 'open'; url: string; pairs: Pair[] }
  | { cmd: 'drive'; rate: number; seconds: number; settleMs: number }
  | { cmd: 'close' };

export interface DriveResult {
  /** Calls placed (sent `call.place`). */
  placed: number;
  /** Calls that rang on the callee. */
  rang: number;
  /** Calls hung up and ended on both sides. */
  completed: number;
  /** Calls due when no pair was free (the previous calls had not finished). */
  noPair: number;
  errors: Record<string, number>;
  /** Place-to-ring, ms, one per call that rang. */
  latencies: number[];
  /** How long placing took, s. */
  elapsed: number;
}

/** A WebRTC audio offer and answer, as a browser writes them (RFC 8829, RFC 8839 ICE attributes). */
const sdp = (setup: 'actpass' | 'active', ufrag: string) =>
  [
    'v=0',
    `o=- ${Math.floor(Math.random() * 1e15)} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=msid-semantic: WMS',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 0',
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${ufrag}`,
    'a=ice-pwd:benchbenchbenchbenchbench',
    'a=ice-options:trickle',
    'a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
    `a=setup:${setup}`,
    'a=mid:0',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:0 PCMU/8000',
    '',
  ].join('\r\n');
const OFFER = JSON.stringify({ type: 'offer', sdp: sdp('actpass', 'bnch') });
const ANSWER = JSON.stringify({ type: 'answer', sdp: sdp('active', 'bnca') });

const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Live {
  caller: WebSocket;
  callee: WebSocket;
  calleeId: string;
  busy: boolean;
  placedAt: number;
  callId: string | null;
  hungUp: boolean;
  hangupId: number;
  calleeEnded: boolean;
  /** The caller's hang-up was answered. */
  callerDone: boolean;
}

const pairs: Live[] = [];
let nextId = 10;
let stats: Omit<DriveResult, 'elapsed'> = fresh();

function fresh(): Omit<DriveResult, 'elapsed'> {
  return { placed: 0, rang: 0, completed: 0, noPair: 0, errors: {}, latencies: [] };
}

type Frame = {
  t: string;
  re?: number;
  data?: { call?: { id: string } };
  call?: { id: string; state: string };
  error?: { code: string };
  code?: string;
};

function failed(f: Frame): void {
  const code = f.error?.code ?? f.code ?? '?';
  stats.errors[code] = (stats.errors[code] ?? 0) + 1;
}

function done(p: Live): void {
  if (p.busy && p.callerDone && p.calleeEnded) {
    p.busy = false;
    stats.completed++;
  }
}

function onCaller(p: Live, raw: WebSocket.RawData): void {
  const f = JSON.parse(raw.toString()) as Frame;
  if (f.t === 'error') {
    failed(f);
    p.busy = false; // the call was refused: the pair is free
    return;
  }
  if (f.t === 'call.update' && f.call?.state === 'connected' && !p.hungUp) {
    p.hangupId = nextId++;
    p.caller.send(`{"t":"call.hangup","id":${p.hangupId},"callId":"${f.call.id}"}`);
    p.hungUp = true;
    return;
  }
  if (f.t === 'result' && f.re === p.hangupId) {
    // The hang-up's answer: the caller's side is over.
    p.callerDone = true;
    done(p);
  }
}

function onCallee(p: Live, raw: WebSocket.RawData): void {
  const f = JSON.parse(raw.toString()) as Frame;
  if (f.t === 'call.incoming' && f.call) {
    stats.latencies.push(now() - p.placedAt);
    stats.rang++;
    p.callId = f.call.id;
    p.callee.send(`{"t":"call.answer","id":${nextId++},"callId":"${f.call.id}","answer":${ANSWER}}`);
  } else if (f.t === 'call.update' && f.call?.state === 'ended' && f.call.id === p.callId) {
    p.calleeEnded = true;
    done(p);
  } else if (f.t === 'error') failed(f);
}

function connect(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify({ t: 'hello', id: 1, v: 1, device: { kind: 'bot' } }));
      ws.once('message', () => resolve(ws));
    });
  });
}

async function open(c: Extract<ClientCommand, { cmd: 'open' }>): Promise<void> {
  for (const pair of c.pairs) {
    const [caller, callee] = await Promise.all([
      connect(c.url, pair.callerToken),
      connect(c.url, pair.calleeToken),
    ]);
    const p: Live = {
      caller,
      callee,
      calleeId: pair.calleeId,
      busy: false,
      placedAt: 0,
      callId: null,
      hungUp: false,
      hangupId: -1,
      calleeEnded: false,
      callerDone: false,
    };
    caller.on('message', (d) => onCaller(p, d));
    callee.on('message', (d) => onCallee(p, d));
    pairs.push(p);
  }
}

/** Places `rate` calls per second for `seconds` (open loop) on free pairs, then waits for them to end. */
async function drive(rate: number, seconds: number, settleMs: number): Promise<DriveResult> {
  stats = fresh();
  const total = Math.round(rate * seconds);
  const start = now();
  let due = 0;
  let cursor = 0;
  while (due < total) {
    const target = Math.min(total, Math.floor(((now() - start) / 1000) * rate) + 1);
    for (; due < target; due++) {
      let p: Live | undefined;
      for (let i = 0; i < pairs.length && !p; i++) {
        const q = pairs[(cursor + i) % pairs.length]!;
        if (!q.busy) p = q;
      }
      cursor++;
      if (!p) {
        stats.noPair++;
        continue;
      }
      Object.assign(p, {
        busy: true,
        callId: null,
        hungUp: false,
        hangupId: -1,
        calleeEnded: false,
        callerDone: false,
        placedAt: now(),
      });
      p.caller.send(
        `{"t":"call.place","id":${nextId++},"to":{"userId":"${p.calleeId}"},"video":false,"offer":${OFFER}}`,
      );
      stats.placed++;
    }
    await sleep(1);
  }
  const elapsed = (now() - start) / 1000;
  const deadline = now() + settleMs;
  while (now() < deadline && pairs.some((p) => p.busy)) await sleep(20);
  return { ...stats, elapsed };
}

process.on('message', async (c: ClientCommand) => {
  switch (c.cmd) {
    case 'open':
      await open(c);
      process.send!({ ready: pairs.length });
      break;
    case 'drive':
      process.send!({ result: await drive(c.rate, c.seconds, c.settleMs) });
      break;
    case 'close':
      for (const p of pairs) {
        p.caller.terminate();
        p.callee.terminate();
      }
      process.exit(0);
  }
});
