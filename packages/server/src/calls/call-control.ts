/**
 * Call control: the referee of calls between users. Realtime sessions hand it their `call.*` frames,
 * their welcome and their end (the `SessionCalls` seam); it keeps the call table, moves each call's
 * state machine (call.ts) and its legs' (leg.ts), relays SDP and trickle ICE between the two devices of
 * a call, tells the call records what happened (record-sink.ts), and sets "In a call" in presence.
 * What it needs of the rest of the server (directory, sessions, services, phones, trunks, limits) is
 * declared in call-control-deps.ts.
 *
 * How a call goes (the frames are in packages/protocol/src/calls.ts):
 * - `call.place` checks the SDP, resolves the callee within the caller's tenant (by id, or by address:
 *   another tenant's user is `not_in_tenant`, an unknown one `not_found`), the per-user limit (caller:
 *   `limit_exceeded`; callee: the call ends `busy`), stores the records, then ends at once as
 *   `do_not_disturb` or `unavailable`, or rings every connected device of the callee. The result is the
 *   caller's view of the call at that point (`ringing`, or `ended` with its reason); later changes come
 *   as `call.update`.
 * - Every ringing device gets `call.incoming` (offer and the caller's candidates so far); a device that
 *   says hello while the call rings starts ringing too. The first `call.answer` wins: answers are decided
 *   synchronously, one frame at a time, so two answers at the same instant cannot both win.
 * - Relay: before the answer only the caller's ICE flows, to every ringing device; after it, SDP and
 *   ICE flow only between the caller's device and the answered one.
 * - A device whose connection drops mid-call leaves its leg `lost` for the grace; the same device key
 *   saying hello again rebinds the leg (welcome lists the call); otherwise the call ends `lost`. A caller
 *   whose connection drops before the answer ends the call `lost` at once (there are no media to keep),
 *   a ringing device that drops just stops ringing (the call ends `unavailable` if none is left).
 *
 * - Phones (packages/server/src/sip/phone-calls.ts): every registered contact of the callee is one more
 *   ringing device (`CallPhones`, a `CallSession` the phone-calls service makes per call and contact,
 *   like the echo's), and a phone's own INVITE places a call from a server-side device
 *   (`attachDevice`). Their media are bridged server side, so to call control they are devices like
 *   any other; only `call.dtmf` (key presses, relayed to the peer after the answer) and `endCall` (a
 *   phone's media timing out) are theirs in particular.
 *
 * - Numbers (`to: {number}`, telephony/trunk-outbound.ts): the tenant's dial plan reads what was typed
 *   (`CallTrunks.route`); an extension is that user, a number is a callee party with no user (its
 *   number only, no per-user limit, no Do not disturb) rung on one trunk leg (`CallTrunks.device`;
 *   none: every carrier's channels are in use, `busy`). The trunk leg carries the caller's user, so
 *   answering and declining are checked by leg side, not by user; it may answer the caller's offer
 *   early (`call.sdp` while ringing: the carrier's early media), and it ends the call with the
 *   carrier's reason and words (`failCall`, the view's `endDetail`).
 *
 * Nothing is orphaned: a call leaves every index the moment it ends, with its timers.
 * One node: calls live in this process's table and ring the devices connected to it (several nodes
 * need the bus to carry calls; not yet).
 */
import {
  ParleyError,
  type CallClientFrame,
  type CallEndReason,
  type CallTarget,
  type CallView,
  type SessionDescription,
} from '@parley/protocol';
import { systemClock, type Clock } from '@parley/sip';
import type { CallSession, SessionCalls } from '../realtime/session.ts';
import { newId } from '../ids.ts';
import { Call, type Party } from './call.ts';
import { Leg } from './leg.ts';
import { checkSdp } from './sdp-check.ts';
import type { CallRecordSink } from './record-sink.ts';
import {
  MAX_EARLY_CANDIDATES,
  type CallControlDeps,
  type CallSessions,
  type CallUser,
  type NumberRoute,
  type OnNetRoute,
} from './call-control-deps.ts';

// The seams are imported from here by the rest of the server.
export * from './call-control-deps.ts';

type Frame<T extends CallClientFrame['t']> = Extract<CallClientFrame, { t: T }>;

export class CallControl implements SessionCalls {
  private readonly calls = new Map<string, Call>();
  /** Calls not ended, by the user id of each user party (the per-user limit and ringing new devices). */
  private readonly byUser = new Map<string, Set<Call>>();
  /** Calls not ended, by the device key of each of their legs. */
  private readonly byDevice = new Map<string, Set<Call>>();
  /** Connected calls per user: "In a call" while above zero. */
  private readonly connected = new Map<string, number>();
  /** Sessions that said hello (only they ring: a session still connecting cannot take frames yet). */
  private readonly ready = new WeakSet<CallSession>();
  /** Each call's record writes, one after another (opened before ringing before answered before ended). */
  private readonly writes = new Map<string, Promise<boolean>>();
  private sessions: CallSessions | null = null;
  private readonly clock: Clock;
  private readonly now: () => number;
  private closing = false;

  constructor(private readonly d: CallControlDeps) {
    this.clock = d.clock ?? systemClock;
    this.now = d.now ?? Date.now;
  }

  /** Starts ringing devices of the hub's sessions (built after call control, like chat). */
  attach(sessions: CallSessions): void {
    this.sessions = sessions;
  }

  /** Calls in the table (tests check none is left after each scenario). */
  get size(): number {
    return this.calls.size;
  }

  /** Whether anything is left over: calls, index entries, "In a call" counts or timers. */
  get idle(): boolean {
    return (
      this.calls.size === 0 && this.byUser.size === 0 && this.byDevice.size === 0 && this.connected.size === 0
    );
  }

  /** A call by id (tests and diagnostics). */
  get(callId: string): Call | undefined {
    return this.calls.get(callId);
  }

  // --- the session seam ---

  frame(s: CallSession, f: CallClientFrame): unknown {
    switch (f.t) {
      case 'call.place':
        return this.place(s, f);
      case 'call.answer':
        return this.answer(s, f);
      case 'call.decline':
        return this.decline(s, f);
      case 'call.hangup':
        return this.hangup(s, f);
      case 'call.sdp':
        return this.sdp(s, f);
      case 'call.ice':
        return this.ice(s, f);
      case 'call.dtmf':
        return this.dtmf(s, f);
    }
  }

  /**
   * A server-side device (a phone's INVITE, made a call by the phone-calls service) may place calls
   * without a realtime hello; unlike `welcome` it is never rung for calls already ringing its user.
   */
  attachDevice(s: CallSession): void {
    this.ready.add(s);
  }

  /**
   * A server-side device ends a call it takes part in for a reason only the server can see (its
   * phone's media stopped: `media_timeout`). False when the call is not this device's (or is over).
   */
  endCall(s: CallSession, callId: string, reason: 'media_timeout' | 'failed'): boolean {
    const call = this.calls.get(callId);
    const leg = call?.legOf(s.deviceKey);
    if (!call || !leg || leg.session !== s) return false;
    if (leg.state === 'ringing') {
      this.closed(s, true);
      return true;
    }
    this.finish(call, reason, null);
    return true;
  }

  /**
   * A trunk leg (trunk-outbound.ts) ends its call for what the carrier answered (busy, unavailable,
   * failed: trunk-codes.ts), ringing or connected. False when the call is not this device's.
   */
  failCall(s: CallSession, callId: string, reason: CallEndReason, detail?: string): boolean {
    const call = this.calls.get(callId);
    const leg = call?.legOf(s.deviceKey);
    if (!call || !leg || leg.session !== s) return false;
    this.finish(call, reason, null, undefined, detail);
    return true;
  }

  welcome(s: CallSession): CallView[] {
    this.ready.add(s);
    const key = s.deviceKey;
    if (key === null) return [];
    const views: CallView[] = [];
    for (const call of this.byDevice.get(key) ?? []) {
      const leg = call.legOf(key)!;
      if (leg.session === s) continue;
      if (leg.state === 'ringing') {
        // A new connection of a ringing device replaces the old one: ring it there (after the welcome).
        leg.rebind(s);
        queueMicrotask(() => {
          if (leg.state === 'ringing' && leg.session === s) this.pushIncoming(call, s);
        });
        continue;
      }
      leg.rebind(s); // lost (or up on a connection not yet seen closed): the device is back
      views.push(call.viewFor(leg.side === 'caller' ? call.caller : call.callee));
    }
    // A device that connects while a call to its user rings starts ringing too, once welcomed.
    for (const call of this.byUser.get(s.userId) ?? []) {
      if (call.callee.userId !== s.userId || call.state !== 'ringing' || call.legOf(key)) continue;
      queueMicrotask(() => {
        if (this.ready.has(s) && call.state === 'ringing' && !call.legOf(key)) this.ring(call, s);
      });
    }
    return views;
  }

  closed(s: CallSession, deliberate: boolean): void {
    this.ready.delete(s);
    const key = s.deviceKey;
    if (key === null) return;
    for (const call of [...(this.byDevice.get(key) ?? [])]) {
      const leg = call.legOf(key)!;
      if (leg.session !== s) continue; // rebound to a newer connection of the same device
      if (leg.state === 'ringing') {
        call.stopRinging(leg);
        this.unindexDevice(call, key);
        if (call.ringingLegs().length === 0) this.finish(call, 'unavailable', null);
      } else if (leg.state === 'up') {
        if (call.state !== 'connected') {
          // The caller went away before the answer: there are no media to keep alive.
          this.finish(call, deliberate ? 'cancelled' : 'lost', deliberate ? userOf(call, s) : null);
        } else if (deliberate) this.finish(call, 'hangup', userOf(call, s));
        else leg.lose(this.d.limits.lostGraceMs, () => this.finish(call, 'lost', null));
      }
    }
  }

  // --- frames ---

  private async place(s: CallSession, f: Frame<'call.place'>): Promise<CallView> {
    if (this.closing) throw new ParleyError('unavailable', 'the server is shutting down');
    checkSdp(f.offer, 'offer', 'offer');
    const [me, target] = await Promise.all([this.d.directory.userById(s.userId), this.resolve(s, f.to)]);
    const numberRoute = 'kind' in target && target.kind === 'number' ? target : null;
    const onNet = 'kind' in target && target.kind === 'on-net' ? target : null;
    const callee: CallUser = numberRoute
      ? numberUser(s.tenantId, numberRoute)
      : onNet
        ? onNet.user
        : (target as CallUser);
    if (callee.id === s.userId)
      throw new ParleyError('validation_failed', 'you cannot call yourself', { field: 'to' });
    const key = s.deviceKey;
    if (!me || key === null || !this.ready.has(s) || this.closing)
      throw new ParleyError('call_state', 'this device is no longer connected');
    // From here to the table, synchronously: concurrent places cannot both pass the limit.
    const max = this.d.limits.maxPerUser;
    if (this.countOf(s.userId) >= max)
      throw new ParleyError('limit_exceeded', `you may take part in at most ${max} calls at once`, {
        field: 'to',
      });
    return this.open(s, key, party('caller', me), callee, f.offer, f.video, numberRoute, onNet?.route);
  }

  /**
   * A call whose caller is a phone number, not a user: a carrier's INVITE to one of the callee's
   * numbers (telephony/trunk-inbound.ts), placed from its server-side device `s` (attached with
   * `attachDevice`, `userId` empty: it is no user). The callee rings as for any call and sees the
   * caller by number (`displayName` when the carrier gave one; neither for a withheld caller).
   * Refusals are coded as `place`'s.
   */
  async placeFromNumber(
    s: CallSession,
    from: { number: string | null; displayName: string | null },
    calleeUserId: string,
    offer: SessionDescription,
  ): Promise<CallView> {
    if (this.closing) throw new ParleyError('unavailable', 'the server is shutting down');
    checkSdp(offer, 'offer', 'offer');
    const callee = await this.d.directory.userById(calleeUserId);
    if (!callee || !callee.enabled || callee.tenantId !== s.tenantId)
      throw new ParleyError('not_found', 'no such user', { field: 'to' });
    const key = s.deviceKey;
    if (key === null || !this.ready.has(s) || this.closing)
      throw new ParleyError('call_state', 'this device is no longer connected');
    const caller: Party = {
      side: 'caller',
      tenantId: s.tenantId,
      userId: null,
      displayName: from.displayName,
      address: null,
      number: from.number,
    };
    return this.open(s, key, caller, callee, offer, false, null);
  }

  /** Stores and rings a call whose parties are resolved (synchronously up to the table: limits hold). */
  private async open(
    s: CallSession,
    key: string,
    caller: Party,
    callee: CallUser,
    offer: SessionDescription,
    video: boolean,
    /** Set when the callee is a phone number (a trunk leg rings instead of the callee's devices). */
    numberRoute: NumberRoute | null,
    /** Set when the callee was dialled by a number they own (on-net: numbers shown, record marked). */
    onNet?: OnNetRoute,
  ): Promise<CallView> {
    const max = this.d.limits.maxPerUser;
    const service = this.d.services?.owns(callee.id) === true;
    const busy = !service && !numberRoute && this.countOf(callee.id) >= max;
    const calleeParty = party('callee', callee);
    if (numberRoute) {
      // A number party: no user, no directory data; the caller shows their own number (caller ID).
      caller.number = numberRoute.callerNumber;
      Object.assign(calleeParty, {
        userId: null,
        displayName: null,
        address: null,
        number: numberRoute.e164,
      });
    }
    if (onNet) {
      // Dialled by number: each side shows its number (across tenants, the only thing shown).
      caller.number = onNet.withheld ? null : onNet.callerNumber;
      calleeParty.number = onNet.e164;
    }
    const call = new Call(
      newId('call'),
      caller,
      calleeParty,
      new Leg('caller', key, s, 'up', this.clock),
      offer,
      video,
      this.now(),
      this.clock,
    );
    this.register(call);
    const opened = this.d.records.opened({
      callId: call.id,
      caller: recordParty(caller),
      callee: recordParty(calleeParty),
      callerDevice: key,
      video: call.video,
      at: call.createdAt,
      ...(onNet ? { onNet: { typed: onNet.typed } } : {}),
    });
    // Later writes wait for this one and are skipped if it failed (there is no record to complete).
    this.writes.set(
      call.id,
      opened.then(
        () => true,
        () => false,
      ),
    );
    try {
      await opened;
    } catch (err) {
      // Not stored, so not acknowledged: the call never was (the caller is told why).
      if (call.end('failed', this.now(), null)) {
        this.unregister(call);
        this.writes.delete(call.id);
      }
      throw err;
    }
    if (call.state !== 'dialing') return call.viewFor(caller); // ended while storing (the caller left)
    if (numberRoute) {
      const trunk = this.d.trunks!.device(s, numberRoute);
      if (!trunk) this.finish(call, 'busy', null, 'caller', 'Every line to the phone network is in use.');
      else {
        this.ring(call, trunk);
        const at = this.now();
        this.record(call, (r) => r.ringing(call.id, at, [trunk.deviceKey!]));
      }
    } else if (busy) this.finish(call, 'busy', null, 'caller');
    else if (!service && this.d.presence.get(callee.id).availability === 'do_not_disturb')
      this.finish(call, 'do_not_disturb', null, 'caller');
    else {
      const devices = service
        ? [this.d.services!.device(callee)]
        : [...this.readySessions(callee.id), ...(this.d.phones?.devicesOf(callee) ?? [])];
      if (devices.length === 0) this.finish(call, 'unavailable', null, 'caller');
      else {
        for (const d of devices) this.ring(call, d);
        const at = this.now();
        const keys = devices.map((d) => d.deviceKey!);
        this.record(call, (r) => r.ringing(call.id, at, keys));
      }
    }
    return call.viewFor(caller);
  }

  private answer(s: CallSession, f: Frame<'call.answer'>): Promise<CallView> {
    const call = this.own(s, f.callId);
    const leg = this.legHere(s, call);
    // By leg, not by user: a number's trunk leg carries the caller's user (a number has none).
    if (leg.side !== 'callee')
      throw new ParleyError('call_state', 'only the callee answers a call', { field: 'callId' });
    if (call.state !== 'ringing' || leg.state !== 'ringing')
      throw new ParleyError(
        'call_state',
        call.state === 'connected' ? 'the call was already answered' : `the call is ${call.state}`,
        { field: 'callId' },
      );
    checkSdp(f.answer, 'answer', 'answer');
    const at = this.now();
    const others = call.answer(leg, at);
    for (const o of others) {
      this.unindexDevice(call, o.deviceKey);
      o.session.push({
        t: 'call.update',
        call: call.viewFor(call.callee, { reason: 'answered_elsewhere', at }),
      });
    }
    const callerSession = call.callerLeg.session;
    if (call.callerLeg.reachable) {
      callerSession.push({ t: 'call.update', call: call.viewFor(call.caller) });
      callerSession.push({ t: 'call.sdp', callId: call.id, description: f.answer });
    }
    this.inCall(call.caller, +1);
    this.inCall(call.callee, +1);
    const device = leg.deviceKey;
    // Answered only once stored (acknowledged means stored); the view is read after, so it is current.
    return this.record(call, (r) => r.answered(call.id, at, device)).then(() => call.viewFor(call.callee));
  }

  private decline(s: CallSession, f: Frame<'call.decline'>): Record<string, never> {
    const call = this.own(s, f.callId);
    const leg = this.legHere(s, call);
    if (leg.side !== 'callee')
      throw new ParleyError('call_state', 'the caller hangs up (call.hangup), not declines', {
        field: 'callId',
      });
    if (call.state !== 'ringing' || leg.state !== 'ringing')
      throw new ParleyError('call_state', `the call is ${call.state}`, { field: 'callId' });
    this.finish(call, 'declined', s.userId);
    return {};
  }

  private hangup(s: CallSession, f: Frame<'call.hangup'>): Record<string, never> {
    const call = this.own(s, f.callId);
    const leg = this.legHere(s, call);
    if (leg.state === 'ringing') return this.decline(s, { t: 'call.decline', id: f.id, callId: f.callId });
    if (leg.state !== 'up')
      throw new ParleyError('call_state', 'this device takes no part in the call now', { field: 'callId' });
    this.finish(call, call.state === 'connected' ? 'hangup' : 'cancelled', userOf(call, s));
    return {};
  }

  private sdp(s: CallSession, f: Frame<'call.sdp'>): Record<string, never> {
    const call = this.own(s, f.callId);
    const leg = this.legHere(s, call);
    if (call.state === 'ringing' && leg.state === 'ringing' && call.callee.userId === null) {
      // Early media (RFC 3960): a number's trunk leg got a 183 with SDP, and answers the caller's
      // offer before the call is answered, so ringback and announcements reach the caller.
      checkSdp(f.description, 'description', 'answer');
      if (call.callerLeg.reachable)
        call.callerLeg.session.push({ t: 'call.sdp', callId: call.id, description: f.description });
      return {};
    }
    const peer = call.state === 'connected' ? call.peerOf(leg) : null;
    if (!peer)
      throw new ParleyError(
        'call_state',
        call.state === 'connected'
          ? 'this device takes no part in the call now'
          : 'a new offer or answer is sent after the call is answered',
        { field: 'callId' },
      );
    checkSdp(f.description, 'description');
    if (!peer.reachable)
      throw new ParleyError('call_state', 'the other party is reconnecting; it will send a new offer', {
        field: 'callId',
      });
    peer.session.push({ t: 'call.sdp', callId: call.id, description: f.description });
    return {};
  }

  private ice(s: CallSession, f: Frame<'call.ice'>): Record<string, never> {
    const call = this.own(s, f.callId);
    const leg = this.legHere(s, call);
    const relay = { t: 'call.ice' as const, callId: call.id, candidate: f.candidate };
    if (leg === call.callerLeg && call.state !== 'connected') {
      if (call.candidates.length >= MAX_EARLY_CANDIDATES)
        throw new ParleyError(
          'limit_exceeded',
          `at most ${MAX_EARLY_CANDIDATES} candidates are kept before the answer`,
          { field: 'candidate' },
        );
      call.candidates.push(f.candidate);
      for (const l of call.ringingLegs()) l.session.push(relay);
      return {};
    }
    const peer = call.state === 'connected' ? call.peerOf(leg) : null;
    if (!peer)
      throw new ParleyError(
        'call_state',
        leg.state === 'ringing'
          ? 'a ringing device sends its candidates once it has answered'
          : 'this device takes no part in the call now',
        { field: 'callId' },
      );
    // A lost peer restarts ICE when it returns (new candidates): these would be stale, so they are dropped.
    if (peer.reachable) peer.session.push(relay);
    return {};
  }

  private dtmf(s: CallSession, f: Frame<'call.dtmf'>): Record<string, never> {
    const call = this.own(s, f.callId);
    const leg = this.legHere(s, call);
    const peer = call.state === 'connected' ? call.peerOf(leg) : null;
    if (!peer)
      throw new ParleyError('call_state', 'key presses are sent once the call is answered', {
        field: 'callId',
      });
    if (peer.reachable) peer.session.push({ t: 'call.dtmf', callId: call.id, digits: f.digits });
    return {};
  }

  // --- lookups ---

  /** The callee of a `call.place`, within the caller's tenant. */
  private async resolve(s: CallSession, to: CallTarget): Promise<CallUser | NumberRoute | OnNetTarget> {
    const service = this.d.services?.resolve(s.tenantId, to) ?? null;
    if (service && 'userId' in to) return service;
    if ('userId' in to) {
      const u = await this.d.directory.userById(to.userId);
      // Another tenant's id looks unknown: ids of other organisations cannot be probed.
      if (!u || !u.enabled || u.tenantId !== s.tenantId)
        throw new ParleyError('not_found', 'no such user', { field: 'to.userId' });
      return u;
    }
    if ('number' in to) {
      if (!this.d.trunks)
        throw new ParleyError('no_route', 'phone numbers cannot be called on this server', {
          field: 'to.number',
        });
      const route = await this.d.trunks.route(s, to.number);
      if (route.kind === 'number') return route;
      if (route.kind === 'on-net') {
        // Any tenant's user (on-net.ts): a number that is in service here but reaches nobody now.
        const u = await this.d.directory.userById(route.userId);
        if (!u || !u.enabled || u.tenantId !== route.tenantId)
          throw new ParleyError('not_found', 'That number is not in service.', { field: 'to.number' });
        return { kind: 'on-net', user: u, route };
      }
      return this.resolve(s, { userId: route.userId }); // an extension of the tenant
    }
    const u = await this.d.directory.userByAddress(to.address);
    if (!u && service) return service;
    if (!u || !u.enabled) throw new ParleyError('not_found', 'no such user', { field: 'to.address' });
    if (u.tenantId !== s.tenantId)
      throw new ParleyError('not_in_tenant', 'calls by address reach users of your organisation only', {
        field: 'to.address',
      });
    return u;
  }

  /** A call the session's user is a party of; any other id (unknown, ended, someone else's) is not found. */
  private own(s: CallSession, callId: string): Call {
    const call = this.calls.get(callId);
    const p = call && (call.partyOf(s.userId) ?? numberCallerOf(call, s));
    if (!call || !p || p.tenantId !== s.tenantId)
      throw new ParleyError('not_found', 'no such call', { field: 'callId' });
    return call;
  }

  /** The leg this very connection holds in `call` (another device of a party holds none: call_state). */
  private legHere(s: CallSession, call: Call): Leg {
    const leg = call.legOf(s.deviceKey);
    if (!leg || leg.session !== s)
      throw new ParleyError('call_state', 'this device takes no part in the call', { field: 'callId' });
    return leg;
  }

  /**
   * Whether a call to `userId` would ring a browser (a ready realtime session, not a SIP phone): a
   * caller with an RTP leg (a carrier's call) makes a WebRTC offer only then (trunk-in-call.ts).
   */
  ringsBrowser(userId: string): boolean {
    return this.readySessions(userId).some((s) => s.kind !== 'sip');
  }

  private readySessions(userId: string): CallSession[] {
    const out: CallSession[] = [];
    for (const s of this.sessions?.sessionsOf(userId) ?? [])
      if (this.ready.has(s) && s.deviceKey !== null) out.push(s);
    return out;
  }

  private countOf(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  // --- moves ---

  private ring(call: Call, s: CallSession): void {
    const leg = new Leg('callee', s.deviceKey!, s, 'ringing', this.clock);
    call.ring(leg, this.d.limits.ringTimeoutMs, () => this.finish(call, 'no_answer', null));
    this.indexDevice(call, leg.deviceKey);
    this.pushIncoming(call, s);
  }

  private pushIncoming(call: Call, s: CallSession): void {
    s.push({
      t: 'call.incoming',
      call: call.viewFor(call.callee),
      offer: call.offer,
      candidates: [...call.candidates],
    });
  }

  /**
   * Ends the call: every leg, every timer, every index entry; tells each device still reachable (but
   * `quiet`'s, which learns it from its request's result) and the records.
   */
  private finish(
    call: Call,
    reason: CallEndReason,
    endedBy: string | null,
    quiet?: 'caller',
    detail?: string,
  ): void {
    const reach = call.legs().filter((l) => l.reachable);
    const wasConnected = call.state === 'connected';
    if (!call.end(reason, this.now(), endedBy, detail)) return;
    this.unregister(call);
    if (wasConnected) {
      this.inCall(call.caller, -1);
      this.inCall(call.callee, -1);
    }
    for (const l of reach) {
      if (quiet === 'caller' && l === call.callerLeg) continue;
      l.session.push({
        t: 'call.update',
        call: call.viewFor(l.side === 'caller' ? call.caller : call.callee),
      });
    }
    const at = call.endedAt!;
    void this.record(call, (r) => r.ended(call.id, at, reason, endedBy)).then(() => {
      this.writes.delete(call.id);
    });
  }

  /**
   * Queues a record write after the call's earlier ones. A failed write is logged and the call goes on
   * (its media do not depend on it); a call whose opening was not stored writes nothing more.
   */
  private record(call: Call, write: (r: CallRecordSink) => Promise<void>): Promise<void> {
    const prev = this.writes.get(call.id) ?? Promise.resolve(false);
    const next = prev.then(async (stored) => {
      if (!stored) return false;
      try {
        await write(this.d.records);
      } catch (err) {
        this.d.log.error({ err, call: call.id }, 'call record write failed');
      }
      return true;
    });
    this.writes.set(call.id, next);
    return next.then(() => {});
  }

  private inCall(p: Party, delta: 1 | -1): void {
    if (p.userId === null || this.d.services?.owns(p.userId)) return;
    const n = (this.connected.get(p.userId) ?? 0) + delta;
    if (n > 0) this.connected.set(p.userId, n);
    else this.connected.delete(p.userId);
    if (delta === 1 && n === 1) this.d.presence.setActivity(p.tenantId, p.userId, 'in_a_call');
    if (n === 0) this.d.presence.setActivity(p.tenantId, p.userId, null);
  }

  // --- the table ---

  private register(call: Call): void {
    this.calls.set(call.id, call);
    for (const p of [call.caller, call.callee]) if (p.userId) add(this.byUser, p.userId, call);
    this.indexDevice(call, call.callerLeg.deviceKey);
  }

  private unregister(call: Call): void {
    this.calls.delete(call.id);
    for (const p of [call.caller, call.callee]) if (p.userId) remove(this.byUser, p.userId, call);
    for (const l of call.legs()) this.unindexDevice(call, l.deviceKey);
  }

  private indexDevice(call: Call, key: string): void {
    add(this.byDevice, key, call);
  }

  private unindexDevice(call: Call, key: string): void {
    remove(this.byDevice, key, call);
  }

  /** Shutdown: every call ends `failed` (told to its devices), then the record writes finish. */
  async close(): Promise<void> {
    this.closing = true;
    for (const call of [...this.calls.values()]) this.finish(call, 'failed', null);
    await Promise.all([...this.writes.values()]);
  }
}

/** A callee reached by a number they own (on-net): the user, and the route that found them. */
interface OnNetTarget {
  kind: 'on-net';
  user: CallUser;
  route: OnNetRoute;
}

/** A number as the callee of a call (it is no user: its id only keeps the per-user bookkeeping apart). */
function numberUser(tenantId: string, route: NumberRoute): CallUser {
  return {
    id: `number:${route.e164}`,
    tenantId,
    address: route.e164,
    displayName: route.e164,
    enabled: true,
  };
}

function party(side: 'caller' | 'callee', u: CallUser): Party {
  return {
    side,
    tenantId: u.tenantId,
    userId: u.id,
    displayName: u.displayName,
    address: u.address,
    number: null,
  };
}

/** The caller party when `s` is the device of a caller that is a phone number (no user), else null. */
function numberCallerOf(call: Call, s: CallSession): Party | null {
  return call.caller.userId === null && call.callerLeg.session === s ? call.caller : null;
}

/** Who a device's hang-up is by: its user, or nobody for a phone number's device. */
const userOf = (call: Call, s: CallSession): string | null => (numberCallerOf(call, s) ? null : s.userId);

const recordParty = (p: Party) => ({ tenantId: p.tenantId, userId: p.userId, number: p.number });

function add<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let set = m.get(k);
  if (!set) m.set(k, (set = new Set()));
  set.add(v);
}

function remove<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const set = m.get(k);
  if (!set) return;
  set.delete(v);
  if (set.size === 0) m.delete(k);
}
