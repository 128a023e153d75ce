/**
 * The child process of bench/echo: the callers. Each call is a werift peer connection on 127.0.0.1 with
 * its own realtime socket: it places a call to Parley Echo (`call.place` with its offer, candidates
 * inline), applies the `call.sdp` answer, and once connected sends a 20 ms audio stream (a tone encoded
 * once, its frames cycled) paced as a browser's microphone is. What comes back is logged per packet
 * (arrival time, RTP timestamp) while the parent measures; nothing is decoded. The same frames go to
 * Parley or to the bare werift loop of the reference. Commands arrive over IPC from the parent.
 */
import WebSocket from 'ws';
import { RTCPeerConnection, RtpHeader, RtpPacket, useOPUS, usePCMU, type RTCRtpTransceiver } from 'werift';
import {
  createCodec,
  noDefaultStun,
  Pacer,
  ToneSource,
  type CodecName,
} from '../packages/media/src/index.ts';
import { latenessOf } from './client-process.ts';

export type EchoClientCommand =
  | { cmd: 'open'; url: string; tokens: string[]; codec: CodecName }
  | { cmd: 'measure'; ms: number }
  | { cmd: 'hangup' }
  | { cmd: 'close' };

export interface OpenResult {
  /** Calls connected (-1 when one failed). */
  calls: number;
  /** Per call, from placing it to its media connected, ms. */
  connectMs: number[];
}

export interface MeasureResult {
  /** Per packet that arrived in the window: how far behind its stream's RTP timestamp schedule, ms. */
  lateness: number[];
  /** Frames the streams' timestamps say were due in the window, and how many of them arrived. */
  expected: number;
  received: number;
  /** Calls that received nothing in the window. */
  silent: number;
}

const CODECS = { OPUS: useOPUS, PCMU: usePCMU } as const;

interface Live {
  ws: WebSocket;
  pc: RTCPeerConnection;
  transceiver: RTCRtpTransceiver;
  callId: string | null;
  pacer: Pacer | null;
  /** Arrivals while measuring: [performance.now(), RTP timestamp] pairs. */
  log: number[];
}

let calls: Live[] = [];
let measuring = false;
let frames: Buffer[] = [];
let clockRate = 48000;
let frameTicks = 960;
let nextId = 10;
/** Per call opened since the last open command: place to media connected, ms. */
let connectMs: number[] = [];

/** A second of a -12 dBFS 440 Hz tone, encoded once: 50 frames the streams cycle through. */
function encodeFrames(codec: CodecName): Buffer[] {
  const c = createCodec(codec);
  try {
    const tone = new ToneSource({ frequencies: [440], durationMs: 1000, sampleRate: c.info.sampleRate });
    return Array.from({ length: 50 }, () => Buffer.from(c.encode(tone.read(c.frameSamples))));
  } finally {
    c.close();
  }
}

function send(l: Live, f: object): void {
  if (l.ws.readyState === WebSocket.OPEN) l.ws.send(JSON.stringify(f));
}

function startSending(l: Live): void {
  const pt = l.transceiver.sender.codec!.payloadType;
  let seq = Math.floor(Math.random() * 0xffff);
  const ts0 = Math.floor(Math.random() * 0xffffffff);
  l.pacer = new Pacer({
    onFrame: ({ index }) => {
      const header = new RtpHeader({
        payloadType: pt,
        sequenceNumber: seq++ & 0xffff,
        timestamp: (ts0 + index * frameTicks) >>> 0,
        marker: index === 0,
      });
      l.transceiver.sender.sendRtp(new RtpPacket(header, frames[index % frames.length]!)).catch(() => {});
    },
  });
  l.pacer.start();
}

/** Opens one call: socket, hello, offer, answer, ICE; resolves once its media is connected. */
async function openCall(url: string, token: string, codec: CodecName): Promise<Live> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify({ t: 'hello', id: 1, v: 1, device: { kind: 'bot' } }));
      ws.once('message', () => resolve());
    });
  });
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    codecs: { audio: [CODECS[codec as 'OPUS' | 'PCMU']()], video: [] },
  });
  const transceiver = pc.addTransceiver('audio', { direction: 'sendrecv' });
  noDefaultStun(pc); // loopback only, as the server's sessions
  const l: Live = { ws, pc, transceiver, callId: null, pacer: null, log: [] };
  pc.onTrack.subscribe((track) =>
    track.onReceiveRtp.subscribe((rtp) => {
      if (measuring) l.log.push(performance.now(), rtp.header.timestamp);
    }),
  );
  const connected = new Promise<void>((resolve, reject) => {
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') resolve();
      else if (s === 'failed' || s === 'closed')
        reject(
          new Error(
            `peer connection ${s} (ICE ${pc.iceConnectionState}, ${pc.dtlsTransports[0]?.state ?? 'no'} DTLS)`,
          ),
        );
    });
  });
  ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString()) as {
      t: string;
      callId?: string;
      description?: { type: string; sdp: string };
      candidate?: { candidate: string; sdpMid?: string; sdpMLineIndex?: number };
    };
    if (f.t === 'call.sdp' && f.description?.type === 'answer') {
      l.callId = f.callId ?? null;
      void pc.setRemoteDescription({ type: 'answer', sdp: f.description.sdp });
    } else if (f.t === 'call.ice' && f.candidate) void pc.addIceCandidate(f.candidate).catch(() => {});
    else if (f.t === 'error') console.error('echo client: refused', raw.toString());
  });
  await pc.setLocalDescription(await pc.createOffer());
  send(l, {
    t: 'call.place',
    id: nextId++,
    to: { userId: 'parley-echo' },
    offer: { type: 'offer', sdp: pc.localDescription!.sdp },
  });
  await connected;
  startSending(l);
  return l;
}

async function open(c: Extract<EchoClientCommand, { cmd: 'open' }>): Promise<void> {
  connectMs = [];
  frames = encodeFrames(c.codec);
  clockRate = c.codec === 'OPUS' ? 48000 : 8000;
  frameTicks = clockRate / 50;
  // One after another, as calls arrive in life: not all offers and DTLS handshakes in one burst.
  for (const t of c.tokens) {
    const t0 = performance.now();
    calls.push(await openCall(c.url, t, c.codec));
    connectMs.push(performance.now() - t0);
  }
}

async function measure(ms: number): Promise<MeasureResult> {
  for (const l of calls) l.log = [];
  measuring = true;
  await new Promise((r) => setTimeout(r, ms));
  measuring = false;
  const out: MeasureResult = { lateness: [], expected: 0, received: 0, silent: 0 };
  for (const l of calls) {
    const s = latenessOfStream(l.log);
    if (s.received === 0) out.silent++;
    for (const x of s.lateness) out.lateness.push(x);
    out.expected += s.expected;
    out.received += s.received;
  }
  return out;
}

async function hangup(): Promise<void> {
  for (const l of calls) {
    l.pacer?.stop();
    if (l.callId) send(l, { t: 'call.hangup', id: nextId++, callId: l.callId });
  }
  await new Promise((r) => setTimeout(r, 200)); // the hang-ups leave before the sockets close
  await Promise.all(calls.map((l) => l.pc.close().catch(() => {})));
  for (const l of calls) l.ws.close();
  calls = [];
}

process.on('message', (m: EchoClientCommand) => {
  const reply = (x: object) => process.send!(x);
  if (m.cmd === 'open')
    open(m).then(
      () => reply({ ready: { calls: calls.length, connectMs } }),
      (err: Error) => {
        console.error(`echo client: a call did not connect: ${err.message}`);
        reply({ ready: { calls: -1, connectMs } });
      },
    );
  else if (m.cmd === 'measure') void measure(m.ms).then((result) => reply({ result }));
  else if (m.cmd === 'hangup') void hangup().then(() => reply({ done: true }));
  else if (m.cmd === 'close') void hangup().then(() => process.exit(0));
});
// The parent gone (finished or failed): nothing to call for.
process.on('disconnect', () => process.exit(0));

const latenessOfStream = (log: number[]) => latenessOf(log, frameTicks, clockRate);
