/**
 * What the call screens need from the SDK's `client.calls`, and the one place that knows its shape: the
 * store and the components use `CallsPort` and `WebCall` only, so a change in the SDK's API is a change
 * in this file. The SDK's call objects are typed for both the browser and werift (Node); here they are
 * the browser's own `MediaStream` and `RTCPeerConnection`.
 */
import type { Call, CallQuality, ParleyClient } from '@parley/sdk';
import type { CallHistoryPage, CallTarget, CallView } from '@parley/protocol';

/** A network-quality reading of a call (the SDK's `quality()`, from `getStats`). */
export type { CallQuality };

/** One call on this device, live: its view (state) and its media. */
export interface WebCall {
  readonly id: string;
  readonly view: CallView;
  readonly muted: boolean;
  readonly camera: boolean;
  readonly localStream: MediaStream | null;
  readonly remoteStream: MediaStream | null;
  readonly peerConnection: RTCPeerConnection | null;
  answer(o: { video: boolean }): Promise<void>;
  decline(): Promise<void>;
  hangup(): Promise<void>;
  setMuted(muted: boolean): void;
  setCamera(on: boolean): Promise<void>;
  setDevices(d: { audioInput?: string; videoInput?: string }): Promise<void>;
  quality(): Promise<CallQuality>;
  /** Sends key presses (0-9, *, #) to the other party: a phone's menu hears them as RFC 4733. */
  sendDtmf(digits: string): Promise<void>;
  /** Calls `l` with the keys the other party pressed (a desk phone's digits); returns the unsubscribe. */
  onDtmf(l: (digits: string) => void): () => void;
  /** Calls `l` on every change of state, media or settings; returns the unsubscribe. */
  onChange(l: () => void): () => void;
}

export interface CallsPort {
  /** `devices`: the microphone and camera to open (`deviceId`s); the system's when not given. */
  place(
    to: CallTarget,
    o: { video: boolean; devices?: { audioInput?: string; videoInput?: string } },
  ): Promise<WebCall>;
  /** A call started ringing on this device. */
  onIncoming(l: (call: WebCall) => void): () => void;
  history(q: { before?: string; limit?: number; filter?: 'all' | 'missed' }): Promise<CallHistoryPage>;
  /** Marks missed calls seen; resolves to the new unseen count. */
  markSeen(upTo?: string): Promise<number>;
}

const CHANGE_EVENTS = ['update', 'state', 'remoteStream', 'localStream', 'ended', 'ice'] as const;

/** One WebCall per SDK call (the store compares them by identity). */
const wrapped = new WeakMap<Call, WebCall>();

function wrap(c: Call): WebCall {
  const have = wrapped.get(c);
  if (have) return have;
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((l) => l());
  for (const e of CHANGE_EVENTS) c.on(e, changed);
  const call: WebCall = {
    get id() {
      return c.id;
    },
    get view() {
      return c.view;
    },
    get muted() {
      return c.muted;
    },
    get camera() {
      return c.cameraOn;
    },
    get localStream() {
      return c.localStream as MediaStream | null;
    },
    get remoteStream() {
      return c.remoteStream as MediaStream | null;
    },
    get peerConnection() {
      return c.peerConnection as RTCPeerConnection | null;
    },
    answer: (o) => c.answer(o).finally(changed),
    decline: () => c.decline(),
    hangup: () => c.hangup(),
    setMuted(muted) {
      c.setMuted(muted);
      changed();
    },
    setCamera: (on) => c.setCamera(on).finally(changed),
    setDevices: (d) => c.setDevices(d).finally(changed),
    quality: () => c.quality(),
    sendDtmf: (digits) => c.sendDtmf(digits),
    onDtmf: (l) => c.on('dtmf', l),
    onChange(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  wrapped.set(c, call);
  return call;
}

/** The port over the SDK's `client.calls`. */
export function callsPortOf(client: ParleyClient): CallsPort {
  const calls = client.calls;
  return {
    place: async (to, o) => wrap(await calls.place(to, o)),
    onIncoming: (l) => calls.on('incoming', (c) => l(wrap(c))),
    history: (q) => calls.history(q),
    markSeen: (upTo) => calls.markSeen(upTo),
  };
}
