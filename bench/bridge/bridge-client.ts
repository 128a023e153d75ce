/**
 * bench/bridge's callers, in a child process of their own so their CPU is not the bridge's. Each call
 * is two ends: a werift peer connection as the browser (PCMU, ICE and DTLS-SRTP on 127.0.0.1) and a
 * plain UDP socket as the phone (RTP/AVP PCMU, no SRTP). Both send a 20 ms tone frame on one pacer per
 * call, as a microphone would, and log each arrival beside its RTP timestamp while measuring, so the
 * parent can say how late each direction arrived behind its stream's schedule and what never came.
 *
 * Signalling is the parent's, over IPC: `offer` makes a browser offer and a phone socket; `phone` takes
 * the bridge's RTP offer and answers it from the phone socket's port; `browser` takes the bridge's WebRTC
 * answer (the streams start once the peer connection is connected). The parent orders them as the
 * phone-calls service does when a browser calls a phone: the phone is offered first (rtpengine makes
 * the phone's offer from the browser's), the browser answered last.
 */
import { createSocket, type Socket } from 'node:dgram';
import { RTCPeerConnection, RtpHeader, RtpPacket, usePCMU, type RTCRtpTransceiver } from 'werift';
import { createCodec, noDefaultStun, Pacer, ToneSource } from '../../packages/media/src/index.ts';
import { latenessOf } from '../client-process.ts';

export type BridgeClientCommand =
  | { cmd: 'offer' }
  | { cmd: 'phone'; index: number; phoneOffer: string }
  | { cmd: 'browser'; index: number; webAnswer: string }
  | { cmd: 'measure'; ms: number }
  | { cmd: 'hangup' }
  | { cmd: 'close' };

export interface MeasureResult {
  /** Per packet that arrived in the window, both directions: ms behind its stream's timestamp schedule. */
  lateness: number[];
  /** Frames the streams' timestamps say were due in the window, and how many of them arrived. */
  expected: number;
  received: number;
  /** Directions (browser->phone, phone->browser) that received nothing in the window. */
  silent: number;
  /** Of those, the ones whose receiving end is the browser. */
  silentAtBrowser: number;
}

const FRAME_TICKS = 160; // 20 ms at 8 kHz
const CLOCK = 8000;

interface Call {
  pc: RTCPeerConnection;
  transceiver: RTCRtpTransceiver;
  phone: Socket;
  /** Where the bridge's phone leg listens (from its offer). */
  remote: { address: string; port: number } | null;
  pacer: Pacer | null;
  /** Arrivals while measuring: [performance.now(), RTP timestamp] pairs, per receiving end. */
  atBrowser: number[];
  atPhone: number[];
}

let calls: Call[] = [];
let measuring = false;
const frames = (() => {
  const c = createCodec('PCMU');
  try {
    const tone = new ToneSource({ frequencies: [440], durationMs: 1000, sampleRate: c.info.sampleRate });
    return Array.from({ length: 50 }, () => Buffer.from(c.encode(tone.read(c.frameSamples))));
  } finally {
    c.close();
  }
})();

async function offer(): Promise<{ index: number; sdp: string }> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    codecs: { audio: [usePCMU()], video: [] },
  });
  const transceiver = pc.addTransceiver('audio', { direction: 'sendrecv' });
  noDefaultStun(pc); // loopback only, as the server's sessions (werift would look up a public STUN server)
  const phone = createSocket('udp4');
  await new Promise<void>((r) => phone.bind(0, '127.0.0.1', () => r()));
  const c: Call = { pc, transceiver, phone, remote: null, pacer: null, atBrowser: [], atPhone: [] };
  // Arrivals are taken where werift routes decrypted RTP to a receiver, whatever the SSRC: werift drops
  // an SSRC the SDP did not announce, and rtpengine (its `inject-DTMF` codec handler) sends on one of
  // its own while its SDP names none; Chromium takes any SSRC on its one audio m-line (the rtpengine
  // driver strips the `a=ssrc` lines for it), so the stand-in browser does too, for every side alike.
  const router = (pc as unknown as { router: { routeRtp(p: RtpPacket): void } }).router;
  router.routeRtp = (rtp: RtpPacket) => {
    if (measuring) c.atBrowser.push(performance.now(), rtp.header.timestamp);
  };
  phone.on('message', (m) => {
    // RTP (version 2, not RTCP's 200-204 packet types): the timestamp is bytes 4-7.
    if (measuring && m.length >= 12 && m[0]! >> 6 === 2 && (m[1]! < 200 || m[1]! > 204))
      c.atPhone.push(performance.now(), m.readUInt32BE(4));
  });
  await pc.setLocalDescription(await pc.createOffer());
  calls.push(c);
  return { index: calls.length - 1, sdp: pc.localDescription!.sdp };
}

/** The phone's answer to the bridge's RTP offer: PCMU from this socket, plus telephone-event if offered. */
function phoneAnswer(c: Call, sdp: string): string {
  const addr = /^c=IN IP4 (\S+)/m.exec(sdp)?.[1] ?? '127.0.0.1';
  const port = Number(/^m=audio (\d+)/m.exec(sdp)?.[1]);
  c.remote = { address: addr, port };
  const local = c.phone.address().port;
  return (
    [
      'v=0',
      `o=phone 1 1 IN IP4 127.0.0.1`,
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${local} RTP/AVP 0`,
      'a=rtpmap:0 PCMU/8000',
      'a=ptime:20',
      'a=sendrecv',
    ].join('\r\n') + '\r\n'
  );
}

async function browser(m: Extract<BridgeClientCommand, { cmd: 'browser' }>): Promise<void> {
  const c = calls[m.index]!;
  const connected = new Promise<void>((resolve, reject) => {
    if (c.pc.connectionState === 'connected') return resolve();
    c.pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') resolve();
      else if (s === 'failed' || s === 'closed') reject(new Error(`peer connection ${s}`));
    });
  });
  await c.pc.setRemoteDescription({ type: 'answer', sdp: m.webAnswer });
  // Resolved once connected (ICE and DTLS done) and streaming, so every call counts from its start.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    connected,
    new Promise((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `the browser did not connect within 5 s (ICE ${c.pc.iceConnectionState}, ` +
                `connection ${c.pc.connectionState})`,
            ),
          ),
        5_000,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  start(c);
}

function start(c: Call): void {
  const pt = c.transceiver.sender.codec!.payloadType;
  let seq = Math.floor(Math.random() * 0xffff);
  const ts0 = Math.floor(Math.random() * 0xffffffff);
  const ssrc = Math.floor(Math.random() * 0xffffffff) >>> 0;
  let pseq = Math.floor(Math.random() * 0xffff);
  const pts0 = Math.floor(Math.random() * 0xffffffff);
  c.pacer = new Pacer({
    onFrame: ({ index }) => {
      const payload = frames[index % frames.length]!;
      const header = new RtpHeader({
        payloadType: pt,
        sequenceNumber: seq++ & 0xffff,
        timestamp: (ts0 + index * FRAME_TICKS) >>> 0,
        marker: index === 0,
      });
      c.transceiver.sender.sendRtp(new RtpPacket(header, payload)).catch(() => {});
      if (!c.remote) return;
      const h = Buffer.alloc(12);
      h[0] = 0x80;
      h[1] = index === 0 ? 0x80 : 0x00; // PT 0, marker on the first
      h.writeUInt16BE(pseq++ & 0xffff, 2);
      h.writeUInt32BE((pts0 + index * FRAME_TICKS) >>> 0, 4);
      h.writeUInt32BE(ssrc, 8);
      c.phone.send(Buffer.concat([h, payload]), c.remote.port, c.remote.address);
    },
  });
  c.pacer.start();
}

async function measure(ms: number): Promise<MeasureResult> {
  for (const c of calls) {
    c.atBrowser = [];
    c.atPhone = [];
  }
  measuring = true;
  await new Promise((r) => setTimeout(r, ms));
  measuring = false;
  const out: MeasureResult = { lateness: [], expected: 0, received: 0, silent: 0, silentAtBrowser: 0 };
  for (const c of calls)
    for (const log of [c.atBrowser, c.atPhone]) {
      const s = latenessOfStream(log);
      if (s.received === 0) out.silent++;
      if (s.received === 0 && log === c.atBrowser) out.silentAtBrowser++;
      for (const x of s.lateness) out.lateness.push(x);
      out.expected += s.expected;
      out.received += s.received;
    }
  return out;
}

async function hangup(): Promise<void> {
  for (const c of calls) c.pacer?.stop();
  await Promise.all(calls.map((c) => c.pc.close().catch(() => {})));
  for (const c of calls) c.phone.close();
  calls = [];
}

process.on('message', (m: BridgeClientCommand) => {
  const reply = (x: object) => process.send!(x);
  const fail = (err: Error) => reply({ error: err.message });
  if (m.cmd === 'offer') offer().then((o) => reply({ offer: o }), fail);
  else if (m.cmd === 'phone') reply({ phoneAnswer: phoneAnswer(calls[m.index]!, m.phoneOffer) });
  else if (m.cmd === 'browser') browser(m).then(() => reply({ browserAnswered: true }), fail);
  else if (m.cmd === 'measure') void measure(m.ms).then((result) => reply({ result }));
  else if (m.cmd === 'hangup') void hangup().then(() => reply({ done: true }));
  else if (m.cmd === 'close') void hangup().then(() => process.exit(0));
});
// The parent gone (finished or failed): nothing to call for.
process.on('disconnect', () => process.exit(0));

const latenessOfStream = (log: number[]) => latenessOf(log, FRAME_TICKS, CLOCK);
