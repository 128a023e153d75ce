/**
 * Call test helpers: a device is a raw realtime WebSocket (raw frames, not the SDK) that says hello with
 * a device id, answers requests by id (a refusal resolves to its code, so tests assert codes plainly),
 * and keeps a frame log to wait on. Plus valid WebRTC-shaped SDP and a recording call-record sink.
 */
import WebSocket from 'ws';
import type { CallEndReason, CallView, Welcome } from '@parley/protocol';
import type { TestServer } from '../helpers/server.ts';
import type { CallRecordSink } from '../../src/calls/record-sink.ts';
import { waitFor } from '../realtime/clients.ts';

type Frame = Record<string, unknown>;

export type Answer<T> = { ok: true; data: T } | { ok: false; code: string; message: string; field?: string };

export interface Device {
  ws: WebSocket;
  frames: Frame[];
  welcome: Welcome;
  request<T = unknown>(frame: Frame): Promise<Answer<T>>;
  /** A request that must succeed: its data. */
  ok<T = unknown>(frame: Frame): Promise<T>;
  /** A request that must be refused: its error code. */
  refused(frame: Frame): Promise<string>;
  waitFrame(pred: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  /** The first `call.incoming` (optionally for one call). */
  incoming(callId?: string): Promise<{ call: CallView; offer: { sdp: string }; candidates: unknown[] }>;
  /** The first `call.update` of `callId` in `state` (and with `reason`, when given). */
  update(callId: string, state: CallView['state'], reason?: CallEndReason): Promise<CallView>;
  /** Resolves after a ping round trip: anything pushed before it has arrived. */
  sync(): Promise<void>;
  /** Frames of type `t` (for asserting nothing arrived). */
  of(t: string, callId?: string): Frame[];
  close(code?: number): Promise<void>;
  /** Drops the TCP connection without a close frame (the server sees 1006: not deliberate). */
  drop(): Promise<void>;
}

let nextId = 1;

export async function device(s: TestServer, token: string, deviceId?: string): Promise<Device> {
  const ws = new WebSocket(`ws://127.0.0.1:${s.app.config.port}/api/realtime`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const frames: Frame[] = [];
  const waiting = new Map<number, (a: Answer<unknown>) => void>();
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString()) as Frame;
    frames.push(f);
    const re = f.re as number | undefined;
    const w = re === undefined ? undefined : waiting.get(re);
    if (!w) return;
    waiting.delete(re!);
    if (f.t === 'error')
      w({
        ok: false,
        code: String(f.code),
        message: String(f.message),
        ...(f.field ? { field: String(f.field) } : {}),
      });
    else w({ ok: true, data: f.t === 'pong' ? {} : f.data });
  });
  const closed = new Promise<void>((r) => ws.on('close', () => r()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const request = <T>(frame: Frame) =>
    new Promise<Answer<T>>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve as (a: Answer<unknown>) => void);
      ws.send(JSON.stringify({ ...frame, id }));
    });
  const ok = async <T>(frame: Frame) => {
    const a = await request<T>(frame);
    if (!a.ok) throw new Error(`${String(frame.t)} refused: ${a.code} ${a.message}`);
    return a.data;
  };
  const welcome = await ok<Welcome>({
    t: 'hello',
    v: 1,
    ...(deviceId ? { device: { id: deviceId, kind: 'bot' } } : {}),
  });
  const waitFrame = (pred: (f: Frame) => boolean, timeoutMs = 3000) =>
    waitFor(() => frames.find(pred), timeoutMs, 'a frame');
  return {
    ws,
    frames,
    welcome,
    request,
    ok,
    refused: async (frame) => {
      const a = await request(frame);
      if (a.ok) throw new Error(`${String(frame.t)} was accepted: ${JSON.stringify(a.data)}`);
      return a.code;
    },
    waitFrame,
    incoming: async (callId) =>
      (await waitFrame(
        (f) => f.t === 'call.incoming' && (!callId || (f.call as CallView).id === callId),
      )) as unknown as { call: CallView; offer: { sdp: string }; candidates: unknown[] },
    update: async (callId, state, reason) =>
      (
        await waitFrame((f) => {
          const c = f.call as CallView | undefined;
          return (
            f.t === 'call.update' &&
            c?.id === callId &&
            c.state === state &&
            (reason === undefined || c.endReason === reason)
          );
        })
      ).call as CallView,
    sync: async () => void (await ok({ t: 'ping' })),
    of: (t, callId) =>
      frames.filter(
        (f) =>
          f.t === t && (!callId || f.callId === callId || (f.call as CallView | undefined)?.id === callId),
      ),
    close: async (code = 1000) => {
      if (ws.readyState !== WebSocket.CLOSED) ws.close(code);
      await closed;
    },
    drop: async () => {
      ws.terminate();
      await closed;
    },
  };
}

/** A WebRTC-shaped SDP (what a browser sends, trimmed): one audio line, ICE credentials, a fingerprint. */
export function sdp(opts: { ufrag?: string | null; fingerprint?: boolean; video?: boolean } = {}): string {
  const ufrag = opts.ufrag === undefined ? 'F7gI' : opts.ufrag;
  const lines = [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 0.0.0.0',
    ...(ufrag === null ? [] : [`a=ice-ufrag:${ufrag}`]),
    'a=ice-pwd:x9cml/YzichV2+XlhiMu8g4S',
    'a=ice-options:trickle',
    ...(opts.fingerprint === false
      ? []
      : [
          'a=fingerprint:sha-256 49:66:12:17:0D:1C:91:AE:57:4C:C6:36:DD:D5:97:D2:7D:62:C9:9A:7F:B9:A3:F4:70:03:E7:43:91:73:23:5E',
        ]),
    'a=setup:actpass',
    'a=mid:0',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
  ];
  return lines.join('\r\n') + '\r\n';
}

export const offer = (o?: Parameters<typeof sdp>[0]) => ({ type: 'offer', sdp: sdp(o) });
export const answerSdp = (o?: Parameters<typeof sdp>[0]) => ({ type: 'answer', sdp: sdp(o) });

export const candidate = (n: number) => ({
  candidate: `candidate:${n} 1 udp 2122260223 127.0.0.1 ${50000 + n} typ host`,
  sdpMid: '0',
  sdpMLineIndex: 0,
});

/** A call-record sink that keeps what it was told, in order. */
export function recordingSink(): CallRecordSink & {
  log: Array<{ step: string; callId: string; data: unknown }>;
} {
  const log: Array<{ step: string; callId: string; data: unknown }> = [];
  return {
    log,
    opened: async (c) => void log.push({ step: 'opened', callId: c.callId, data: c }),
    ringing: async (callId, at, devices) => void log.push({ step: 'ringing', callId, data: { at, devices } }),
    answered: async (callId, at, device) => void log.push({ step: 'answered', callId, data: { at, device } }),
    ended: async (callId, at, reason, endedBy) =>
      void log.push({ step: 'ended', callId, data: { at, reason, endedBy } }),
  };
}

/** Waits until call control holds nothing (no call, no index entry, no In a call count). */
export async function clean(s: TestServer): Promise<void> {
  await waitFor(() => (s.app.calls.idle ? true : undefined), 2000, 'an empty call table');
}
