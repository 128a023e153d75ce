/**
 * Calls in the SDK (`client.calls`): place a call, hear incoming ones, the calls this device takes part
 * in now, call history and the missed-call badge, and ICE servers (STUN, short-lived TURN credentials).
 *
 * Pushes are routed to their `Call` by id. A push for a call this device does not know yet (an update
 * that overtook the answer to `call.place`) is held briefly and handed over when the call appears; one
 * for a call that already ended here is dropped.
 *
 * Reconnection: the welcome lists the calls this device still holds (`welcome.calls`). Each listed call
 * takes the server's view and, if connected, restarts ICE with a new offer; a call this device held that
 * is not listed ended, or went on without this device, while it was away (`lost`); a call ringing here
 * is rung again on the new connection if it still rings. A listed call this
 * client does not know (the app restarted with the same device id) cannot get its media back: it is hung
 * up rather than left to the other party as silence until the grace runs out.
 */
import {
  type CallEventData,
  type CallHistoryPage,
  type CallServerFrame,
  type CallTarget,
  type DurableEvent,
  type IceServersResponse,
  type Welcome,
} from '@parley/protocol';
import { TypedEmitter } from './typed-emitter.ts';
import { Call, type CallDeps } from './call.ts';
import { CallMedia } from './call-media.ts';
import type { WebRtc } from './call-webrtc.ts';
import type { RealtimeLink } from './realtime-link.ts';
import type { RestClient } from './rest-client.ts';
import { queryString } from './query-string.ts';

export interface CallsEvents extends Record<string, unknown[]> {
  /** A call rings on this device: show it, then `answer()` or `decline()`. */
  incoming: [Call];
  /** Someone called and you did not answer (durable: replayed after a reconnection, once). */
  missed: [CallEventData['call.missed']];
  /** A call of yours ended: the history changed (refresh it, and the badge). */
  history: [CallEventData['call.ended']];
}

export interface PlaceOptions {
  /** Start with the camera on (the callee answers with or without its own). */
  video?: boolean;
  /** Microphone and camera to use (`deviceId`s); default: the system's. */
  devices?: { audioInput?: string; videoInput?: string };
}

export interface HistoryQuery {
  /** Calls started before this call (the previous page's `next`). */
  before?: string;
  limit?: number;
  filter?: 'all' | 'missed';
}

/** Frames held for a call not known yet, per call and in all. */
const HELD_PER_CALL = 50;
const HELD_CALLS = 20;
/** Ended calls remembered, so their late pushes are dropped rather than held. */
const ENDED_REMEMBERED = 100;
/** ICE servers are fetched again when their credentials have less than this left (or 10 % of their life). */
const ICE_REFRESH_MARGIN_MS = 60_000;
/** Without TURN (no expiry), the STUN list is kept this long. */
const ICE_STATIC_TTL_MS = 10 * 60_000;

export class CallsApi extends TypedEmitter<CallsEvents> {
  private readonly calls = new Map<string, Call>();
  private readonly held = new Map<string, CallServerFrame[]>();
  private readonly endedIds: string[] = [];
  private ice: { value: IceServersResponse; refreshAt: number } | null = null;
  private iceFetch: Promise<IceServersResponse> | null = null;
  private userId: string | null = null;
  private readonly deps: CallDeps;

  constructor(
    private readonly rest: Pick<RestClient, 'request'>,
    private readonly link: Pick<RealtimeLink, 'request' | 'state'>,
    private readonly webrtc: WebRtc,
    me: () => string | null,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.deps = {
      request: (f) => this.link.request(f),
      linkOpen: () => this.link.state === 'open',
      webrtc,
      iceServers: async () => (await this.iceServers()).iceServers,
      me: () => me() ?? this.userId,
      ended: (call) => this.forget(call),
    };
  }

  /** The calls this device takes part in now (ringing, dialing or connected), oldest first. */
  get current(): Call[] {
    return [...this.calls.values()];
  }

  get(callId: string): Call | undefined {
    return this.calls.get(callId);
  }

  /**
   * Calls a user of your organisation, by id or by address: opens the microphone (and camera with
   * `video`), sends the offer, and resolves with the call once the server took it (`dialing`, or
   * `ringing` when a device rang at once). Refusals are coded: `not_found`, `not_in_tenant`,
   * `limit_exceeded` (you already hold `PARLEY_CALL_MAX_PER_USER` calls), `invalid_sdp`. A callee who is
   * busy, away or in Do not disturb is not a refusal: the call ends with that reason.
   */
  async place(to: CallTarget, opts: PlaceOptions = {}): Promise<Call> {
    const video = !!opts.video;
    const { iceServers } = await this.iceServers();
    const devices = opts.devices ?? {};
    let call: Call | null = null;
    const media = await CallMedia.open(
      Call.mediaOptions(this.deps, iceServers, false, video, devices, () => call),
    );
    try {
      const offer = await media.offer();
      const view = await this.link.request({ t: 'call.place', to, video, offer });
      call = new Call(view, this.deps, { media });
    } catch (err) {
      media.close();
      throw err;
    }
    call.useDevices(devices);
    this.register(call);
    return call;
  }

  /** One page of your call history, newest first, with the unseen missed-call count (the badge). */
  history(q: HistoryQuery = {}): Promise<CallHistoryPage> {
    return this.rest.request(
      'GET',
      `/api/calls/history${queryString({ before: q.before, limit: q.limit, filter: q.filter })}`,
    );
  }

  /** Marks missed calls seen (all, or up to and including `upTo`); resolves with the new badge count. */
  async markSeen(upTo?: string): Promise<number> {
    const r = await this.rest.request<{ unseenMissed: number }>(
      'POST',
      '/api/calls/history/seen',
      upTo ? { upTo } : {},
    );
    return r.unseenMissed;
  }

  /** STUN and TURN servers for calls: fetched once and kept until their credentials are near expiry. */
  async iceServers(): Promise<IceServersResponse> {
    if (this.ice && this.now() < this.ice.refreshAt) return this.ice.value;
    this.iceFetch ??= (async () => {
      try {
        const value = await this.rest.request<IceServersResponse>('GET', '/api/calls/ice-servers');
        const fetched = this.now();
        const expires = value.expiresAt ? Date.parse(value.expiresAt) : NaN;
        const refreshAt = Number.isFinite(expires)
          ? expires - Math.max(ICE_REFRESH_MARGIN_MS, (expires - fetched) / 10)
          : fetched + ICE_STATIC_TTL_MS;
        this.ice = { value, refreshAt };
        return value;
      } finally {
        this.iceFetch = null;
      }
    })();
    return this.iceFetch;
  }

  // --- from the client ---

  /** A call push from the realtime link. */
  received(f: CallServerFrame): void {
    const id = f.t === 'call.incoming' || f.t === 'call.update' ? f.call.id : f.callId;
    const known = this.calls.get(id);
    if (known) return known.received(f);
    if (this.endedIds.includes(id)) return;
    if (f.t === 'call.incoming') {
      const call = new Call(f.call, this.deps, { incoming: { offer: f.offer, candidates: f.candidates } });
      this.register(call);
      if (this.calls.has(id)) this.emit('incoming', call);
      return;
    }
    this.hold(id, f);
  }

  /** After each welcome: resume the calls it lists, end those it no longer does (see the top). */
  resumed(w: Welcome): void {
    this.userId = w.userId;
    const listed = new Map((w.calls ?? []).map((c) => [c.id, c]));
    const ringing: Call[] = [];
    for (const call of [...this.calls.values()]) {
      const view = listed.get(call.id);
      if (view) call.resumed(view);
      else if (call.direction === 'incoming' && call.state === 'ringing' && !call.peerConnection)
        ringing.push(call);
      else call.lost();
    }
    // A ringing device's new connection is rung again right after the welcome (if the call still
    // rings): pushes and answers share one ordered stream, so after a ping's answer it has come or never will.
    if (ringing.length)
      this.link.request({ t: 'ping' }).then(
        () => ringing.forEach((c) => c.rerung || c.lost()),
        () => {},
      );
    for (const view of listed.values()) {
      if (this.calls.has(view.id) || view.state === 'ended') continue;
      this.link.request({ t: 'call.hangup', callId: view.id }).catch(() => {});
    }
  }

  /**
   * The link dropped (it is resuming): a ringing call waits to be rung again on the new connection (that
   * push may come before or after the welcome).
   */
  suspended(): void {
    for (const call of this.calls.values()) call.rerung = false;
  }

  /** The link closed for good (disconnect, sign-out, a revoked session): this device's calls are over. */
  closed(): void {
    for (const call of [...this.calls.values()]) call.lost();
  }

  /** A durable event: missed calls and history changes are told as their own events. */
  event(e: DurableEvent): void {
    if (e.kind === 'call.missed') this.emit('missed', e.data as unknown as CallEventData['call.missed']);
    else if (e.kind === 'call.ended') this.emit('history', e.data as unknown as CallEventData['call.ended']);
  }

  // --- internals ---

  private register(call: Call): void {
    if (call.state === 'ended') return this.forget(call);
    this.calls.set(call.id, call);
    const frames = this.held.get(call.id);
    this.held.delete(call.id);
    for (const f of frames ?? []) call.received(f);
  }

  private forget(call: Call): void {
    if (this.calls.get(call.id) === call) this.calls.delete(call.id);
    this.held.delete(call.id);
    if (!this.endedIds.includes(call.id)) {
      this.endedIds.push(call.id);
      if (this.endedIds.length > ENDED_REMEMBERED) this.endedIds.shift();
    }
  }

  private hold(id: string, f: CallServerFrame): void {
    let list = this.held.get(id);
    if (!list) {
      if (this.held.size >= HELD_CALLS) this.held.delete(this.held.keys().next().value!);
      list = [];
      this.held.set(id, list);
    }
    if (list.length < HELD_PER_CALL) list.push(f);
  }
}
