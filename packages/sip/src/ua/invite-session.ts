/**
 * An INVITE session: the INVITE usage of a dialog (RFC 3261 sections 13-15, RFC 5057), on
 * either side. It retransmits our 2xx until the ACK (section 13.3.1.4) and ACKs every copy of a
 * 2xx we receive (13.2.2.4); modifies the session with re-INVITE (section 14) or UPDATE
 * (RFC 3311), resolving glare with 491 and the retry timers of section 14.1; runs session timers
 * (RFC 4028) and an optional in-dialog OPTIONS keep-alive; takes REFERs (RFC 3515); ends with BYE
 * (section 15).
 *
 * ```
 *   UAS: 2xx sent   +-------------+  ACK    +-----------+  BYE sent or received,
 *   --------------->| waitingAck  |-------->| confirmed |  session expired, keep-alive
 *                   +-------------+         +-----------+  failed, replaced
 *   UAC: 2xx ACKed        | no ACK in 64*T1:      |                 |
 *   ----------------------+------ BYE ------------+---> +------------+
 *                         +-----------------------------> | terminated |
 *                                                         +------------+
 * ```
 * Offers move one at a time (section 14.1): while our re-INVITE or UPDATE waits for its final
 * response, theirs gets 491; while theirs waits for its ACK, a second one gets 500 with
 * Retry-After (section 14.2).
 */
import { AckWait } from '../ack-wait.ts';
import type { DigestCredentials } from '../digest.ts';
import { SipStateError } from '../errors.ts';
import { type HeaderValue, type SipRequest, SipResponse } from '../message.ts';
import { createResponse } from '../response.ts';
import type { InviteServerTransaction } from '../transaction/invite-server.ts';
import type { ServerTransaction } from '../transaction/transaction-layer.ts';
import type { Peer } from '../transport/transport.ts';
import { TypedEmitter } from '../typed-emitter.ts';
import { SipRequestFailed } from '../uac.ts';
import type { TimerHandle } from '../clock.ts';
import type { DialogEntry, DialogUsage } from './dialog-table.ts';
import { answerOfferByDirection } from './hold.ts';
import { IncomingRefer, ReferSender, type ReferOptions } from './refer.ts';
import { answerChallenges, credentialsOf, sendNonInvite } from './request-sender.ts';
import {
  negotiatedFrom2xx,
  negotiateUas,
  type NegotiatedTimer,
  SessionTimer,
  type SessionTimerSettings,
  uacTimerHeaders,
} from './session-timer.ts';
import type { SubscriptionUsage } from './subscription.ts';
import type { UserAgentCore } from './user-agent.ts';

export type SessionState = 'waitingAck' | 'confirmed' | 'terminated';

const TRANSITIONS: Record<SessionState, readonly SessionState[]> = {
  waitingAck: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};

/** Why a session ended. */
export type EndReason =
  | 'bye' // the peer sent BYE
  | 'local' // we sent BYE
  | 'no-ack' // our 2xx was never ACKed (section 13.3.1.4)
  | 'session-expired' // RFC 4028 section 10
  | 'keepalive-failed' // in-dialog OPTIONS timed out or got 481
  | 'dialog-gone' // a request in the dialog got 481 or 408 (section 12.2.1.2, 14.1)
  | 'replaced' // RFC 3891
  | 'shutdown';

export interface SessionOptions {
  /** Session timers (RFC 4028); absent: none unless the peer asks for one. */
  sessionTimer?: SessionTimerSettings;
  /** Sends OPTIONS in the dialog this often, ms; a 408 or 481 ends the session. */
  keepAliveMs?: number;
  /** Credentials for challenges to requests inside the dialog (RFC 3261 section 22). */
  credentials?: DigestCredentials;
  /**
   * Answers an offer in a re-INVITE or UPDATE: the answer body, or a status to reject it with
   * (e.g. 488). Default: our last description with the direction mirrored (hold, RFC 3264 8.4).
   */
  answerOffer?(offer: Buffer, req: SipRequest): Buffer | { status: number };
}

export type InviteSessionEvents = {
  /** The ACK for our 2xx arrived (UAS), or at once for the UAC. */
  confirmed: [];
  /** A re-INVITE or UPDATE changed the session (either side). */
  modified: [change: { remote: boolean; method: string; offer?: Buffer; answer?: Buffer }];
  /** A REFER arrived in the dialog (RFC 3515): `accept` or `reject` it. */
  refer: [refer: IncomingRefer];
  /** Another request in the dialog (INFO, MESSAGE ...); without a listener it gets 405. */
  request: [tx: ServerTransaction];
  terminated: [reason: EndReason];
};

interface SessionInit {
  localSdp?: Buffer;
  remoteSdp?: Buffer;
  /** The methods the peer allows (its Allow header): UPDATE refreshes need it. */
  peerAllow: string[];
}

export class InviteSession extends TypedEmitter<InviteSessionEvents> implements DialogUsage {
  readonly entry: DialogEntry<InviteSession, SubscriptionUsage>;
  /** The peer the dialog was set up with (fallback when the next hop is a host name). */
  readonly peer: Peer;
  localSdp: Buffer | undefined;
  remoteSdp: Buffer | undefined;
  private _state: SessionState;
  private endReason: EndReason | undefined;
  private readonly options: SessionOptions;
  private readonly peerAllow: string[];
  /** Our re-INVITE or UPDATE waiting for its final response. */
  private outgoing: 'INVITE' | 'UPDATE' | undefined;
  /** Their re-INVITE whose 2xx waits for the ACK (or which has no final response yet). */
  private incomingInvite: number | undefined;
  private ackWait: { seq: number; wait: AckWait } | undefined;
  private lastAck: { seq: number; ack: SipRequest; dest: Peer } | undefined;
  private readonly timer: SessionTimer;
  private keepAlive: TimerHandle | undefined;

  /** @internal Use {@link IncomingInvite.accept} or {@link OutgoingInvite}. */
  constructor(
    private readonly ua: UserAgentCore,
    entry: DialogEntry<InviteSession, SubscriptionUsage>,
    peer: Peer,
    options: SessionOptions,
    init: SessionInit,
  ) {
    super();
    this.onListenerError = (e) => ua.endpoint.onListenerError(e);
    this.entry = entry;
    this.peer = peer;
    this.options = options;
    this.localSdp = init.localSdp;
    this.remoteSdp = init.remoteSdp;
    this.peerAllow = init.peerAllow.map((m) => m.trim().toUpperCase());
    this._state = entry.dialog.isUac ? 'confirmed' : 'waitingAck';
    this.timer = new SessionTimer(
      ua.clock,
      () => void this.refresh(),
      () => void this.end('session-expired'),
    );
  }

  get dialog() {
    return this.entry.dialog;
  }

  get state(): SessionState {
    return this._state;
  }

  /** Why it ended, once terminated. */
  get reason(): EndReason | undefined {
    return this.endReason;
  }

  /** The session timer in force (RFC 4028), if any. */
  get sessionTimer(): { interval: number; weRefresh: boolean } | undefined {
    return this.timer.current;
  }

  private transition(to: SessionState): void {
    if (!TRANSITIONS[this._state].includes(to))
      throw new SipStateError(
        'SIP_ILLEGAL_TRANSITION',
        `session ${this.dialog.key}: ${this._state} -> ${to}`,
      );
    this._state = to;
  }

  // ---- establishment

  /** @internal UAS: sends the 2xx and retransmits it until the ACK. */
  sendInitial2xx(tx: InviteServerTransaction, ok: SipResponse, timer: NegotiatedTimer | undefined): void {
    const seq = tx.request.cseq.seq;
    this.ackWait = {
      seq,
      wait: new AckWait(this.ua.clock, tx, ok, this.ua.timers, () => {
        this.ackWait = undefined;
        void this.end('no-ack');
      }),
    };
    if (timer) this.timer.start(timer, false);
    this.startKeepAlive();
  }

  /** @internal UAC: the 2xx was ACKed (the ACK is kept for 2xx retransmissions). */
  established(ack: SipRequest, dest: Peer, timer: NegotiatedTimer | undefined): void {
    this.lastAck = { seq: ack.cseq.seq, ack, dest };
    if (timer) this.timer.start(timer, true);
    this.startKeepAlive();
    this.emit('confirmed');
    this.ua.sessionEstablished(this);
  }

  /** @internal An ACK for a 2xx of ours in this dialog (section 13.3.1.4). */
  receiveAck(ack: SipRequest): void {
    const w = this.ackWait;
    if (!w || ack.cseq.seq !== w.seq) return;
    w.wait.ackReceived();
    this.ackWait = undefined;
    if (this.incomingInvite === w.seq) {
      this.incomingInvite = undefined;
      if (ack.body.length > 0) this.remoteSdp = ack.body; // the answer to an offer in our 2xx
    } else if (this._state === 'waitingAck' && this.remoteSdp === undefined && ack.body.length > 0) {
      // An INVITE without an offer (a late offer, section 13.2.1): our 2xx offered, the ACK answers.
      this.remoteSdp = ack.body;
    }
    if (this._state === 'waitingAck') {
      this.transition('confirmed');
      this.emit('confirmed');
      this.ua.sessionEstablished(this);
    }
  }

  /** @internal A 2xx seen again (stray, after Timer M): send its ACK again (section 13.2.2.4). */
  resendAck(res: SipResponse): void {
    const a = this.lastAck;
    if (a && res.cseq.seq === a.seq) this.ua.endpoint.sendStateless(a.ack, a.dest);
  }

  // ---- requests from the peer

  /** @internal A request routed to this usage by the core. */
  receiveRequest(tx: ServerTransaction, entry: DialogEntry<InviteSession, SubscriptionUsage>): void {
    const req = tx.request;
    if (this._state === 'terminated') {
      tx.respond(createResponse(req, 481));
      return;
    }
    switch (req.method) {
      case 'INVITE':
        return this.receiveReinvite(tx as InviteServerTransaction);
      case 'UPDATE':
        return this.receiveUpdate(tx);
      case 'REFER': {
        const refer = new IncomingRefer(this.ua, tx, entry);
        if (!this.emit('refer', refer)) refer.reject(603);
        return;
      }
      default:
        if (!this.emit('request', tx))
          tx.respond(createResponse(req, 405, { headers: [['Allow', this.ua.policy.allow.join(', ')]] }));
    }
  }

  /** Section 14.2 and RFC 4028 section 9 for a refresh. */
  private receiveReinvite(tx: InviteServerTransaction): void {
    const req = tx.request;
    if (this.outgoing === 'INVITE' || (this.outgoing === 'UPDATE' && req.body.length > 0)) {
      tx.respond(createResponse(req, 491)); // glare: both sides offered (section 14.2)
      return;
    }
    if (this.incomingInvite !== undefined || this._state === 'waitingAck') {
      tx.respond(this.retryLater(req));
      return;
    }
    const negotiated = negotiateUas(req, this.options.sessionTimer ?? this.timerSettingsInForce());
    if (negotiated && 'minSE' in negotiated) {
      tx.respond(createResponse(req, 422, { headers: [['Min-SE', negotiated.minSE]] }));
      return;
    }
    let body: Buffer | undefined;
    if (req.body.length > 0) {
      const answer = this.answer(req);
      if (!Buffer.isBuffer(answer)) {
        tx.respond(createResponse(req, answer.status));
        return;
      }
      body = answer;
      this.remoteSdp = req.body;
      this.localSdp = answer;
    } else body = this.localSdp; // no offer: our 2xx offers, the ACK answers (section 14.2)
    this.incomingInvite = req.cseq.seq;
    const ok = createResponse(req, 200, {
      headers: [
        ['Contact', this.ua.contact(tx.peer.protocol)],
        ['Allow', this.ua.policy.allow.join(', ')],
        ...(negotiated ? negotiated.headers : []),
      ],
      body,
      contentType: body ? 'application/sdp' : undefined,
    });
    this.ackWait = {
      seq: req.cseq.seq,
      wait: new AckWait(this.ua.clock, tx, ok, this.ua.timers, () => {
        // Section 14.2 refers to 13.3.1.4: an unACKed 2xx ends the dialog.
        this.ackWait = undefined;
        this.incomingInvite = undefined;
        void this.end('no-ack');
      }),
    };
    if (negotiated) this.timer.start(negotiated.timer, false);
    this.emit('modified', {
      remote: true,
      method: 'INVITE',
      offer: req.body.length > 0 ? req.body : undefined,
      answer: body,
    });
  }

  /** RFC 3311 section 5.2. */
  private receiveUpdate(tx: ServerTransaction): void {
    const req = tx.request;
    const hasOffer = req.body.length > 0;
    if (hasOffer && this.outgoing !== undefined) {
      tx.respond(createResponse(req, 491));
      return;
    }
    if (hasOffer && this.incomingInvite !== undefined) {
      tx.respond(this.retryLater(req));
      return;
    }
    const negotiated = negotiateUas(req, this.options.sessionTimer ?? this.timerSettingsInForce());
    if (negotiated && 'minSE' in negotiated) {
      tx.respond(createResponse(req, 422, { headers: [['Min-SE', negotiated.minSE]] }));
      return;
    }
    let body: Buffer | undefined;
    if (hasOffer) {
      const answer = this.answer(req);
      if (!Buffer.isBuffer(answer)) {
        tx.respond(createResponse(req, answer.status));
        return;
      }
      body = answer;
      this.remoteSdp = req.body;
      this.localSdp = answer;
    }
    tx.respond(
      createResponse(req, 200, {
        headers: [['Contact', this.ua.contact(tx.peer.protocol)], ...(negotiated ? negotiated.headers : [])],
        body,
        contentType: body ? 'application/sdp' : undefined,
      }),
    );
    if (negotiated) this.timer.start(negotiated.timer, false);
    this.emit('modified', {
      remote: true,
      method: 'UPDATE',
      offer: hasOffer ? req.body : undefined,
      answer: body,
    });
  }

  /** 500 with Retry-After of 0-10 s (section 14.2). */
  private retryLater(req: SipRequest): SipResponse {
    return createResponse(req, 500, { headers: [['Retry-After', Math.floor(this.ua.random() * 11)]] });
  }

  private answer(req: SipRequest): Buffer | { status: number } {
    if (this.options.answerOffer) return this.options.answerOffer(req.body, req);
    if (!this.localSdp) return { status: 488 };
    return answerOfferByDirection(this.localSdp, req.body);
  }

  /** The timer settings implied by a running timer (a peer's refresh may carry Session-Expires). */
  private timerSettingsInForce(): SessionTimerSettings | undefined {
    const c = this.timer.current;
    return c ? { sessionExpires: c.interval, minSE: 90 } : undefined;
  }

  // ---- requests from us

  /**
   * Sends a re-INVITE (section 14.1) with a new offer (or none: the 2xx then offers and our ACK
   * has no answer; pass `body` to offer). Resolves with the final response; on 491 it waits the
   * section 14.1 time (2.1-4 s when we chose the Call-ID, else 0-2 s) and tries again, up to
   * `attempts` times.
   */
  async reinvite(
    o: { body?: Buffer | string; headers?: Array<[string, HeaderValue]>; attempts?: number } = {},
  ): Promise<SipResponse> {
    return this.withGlareRetry('INVITE', o.attempts ?? 5, () => this.sendReinvite(o.body, o.headers ?? []));
  }

  /** Sends UPDATE (RFC 3311) with an offer, or none (a session refresh); 491 is retried as for re-INVITE. */
  async update(
    o: { body?: Buffer | string; headers?: Array<[string, HeaderValue]>; attempts?: number } = {},
  ): Promise<SipResponse> {
    return this.withGlareRetry('UPDATE', o.attempts ?? 5, async () => {
      const body = typeof o.body === 'string' ? Buffer.from(o.body) : o.body;
      const res = await this.sendInDialog('UPDATE', {
        headers: [['Contact', this.ua.contact(this.peer.protocol)], ...(o.headers ?? [])],
        body,
        contentType: body ? 'application/sdp' : undefined,
      });
      if (res.status >= 200 && res.status < 300) {
        this.dialog.refreshTarget(res);
        if (body) {
          this.localSdp = body;
          if (res.body.length > 0) this.remoteSdp = res.body;
        }
        this.emit('modified', {
          remote: false,
          method: 'UPDATE',
          offer: body,
          answer: res.body.length > 0 ? res.body : undefined,
        });
      }
      return res;
    });
  }

  private async withGlareRetry(
    method: 'INVITE' | 'UPDATE',
    attempts: number,
    send: () => Promise<SipResponse>,
  ): Promise<SipResponse> {
    for (let i = 1; ; i++) {
      if (this._state !== 'confirmed')
        throw new SipStateError('SIP_INVALID_ARGUMENT', `session ${this.dialog.key} is ${this._state}`);
      if (this.outgoing !== undefined || this.incomingInvite !== undefined)
        throw new SipStateError(
          'SIP_INVALID_ARGUMENT',
          'another offer is in progress (RFC 3261 section 14.1)',
        );
      this.outgoing = method;
      let res: SipResponse;
      try {
        res = await send();
      } finally {
        this.outgoing = undefined;
      }
      if (res.status === 408 || res.status === 481) {
        // Section 14.1: the dialog is gone (481) or unreachable (408): end it.
        await this.end('dialog-gone', res.status === 408);
        return res;
      }
      if (res.status !== 491 || i >= attempts) return res;
      const units = this.dialog.isUac
        ? 210 + Math.floor(this.ua.random() * 191)
        : Math.floor(this.ua.random() * 201);
      await new Promise<void>((r) => this.ua.clock.setTimer(units * 10, r));
      // A peer's re-INVITE that won the race may still be waiting for its ACK.
      while (this.incomingInvite !== undefined && this._state === 'confirmed')
        await new Promise<void>((r) => this.ua.clock.setTimer(this.ua.timers.T1, r));
    }
  }

  private sendReinvite(
    bodyIn: Buffer | string | undefined,
    extra: Array<[string, HeaderValue]>,
  ): Promise<SipResponse> {
    const body = typeof bodyIn === 'string' ? Buffer.from(bodyIn) : bodyIn;
    const dest = this.ua.nextHop(this.dialog, this.peer);
    const timerHeaders =
      this.timer.current && this.options.sessionTimer
        ? uacTimerHeaders(this.options.sessionTimer, this.timer.current.interval, 'uac')
        : this.timer.current
          ? ([['Session-Expires', `${this.timer.current.interval};refresher=uac`]] as Array<
              [string, HeaderValue]
            >)
          : [];
    const build = (auth: Array<[string, string]>): SipRequest =>
      this.dialog.createRequest('INVITE', {
        contact: this.ua.contact(dest.protocol, this.dialog.secure),
        headers: [
          ['Allow', this.ua.policy.allow.join(', ')],
          ['Supported', 'timer'],
          ...timerHeaders,
          ...extra,
          ...auth,
        ],
        body,
        contentType: body ? 'application/sdp' : undefined,
      });
    return new Promise((resolve, reject) => {
      let authTried = false;
      let done = false;
      const attempt = (req: SipRequest): void => {
        this.ua.endpoint.sendRequest(req, dest, {
          onResponse: (res) => {
            if (res.status < 200) return;
            if (res.status < 300) {
              if (done) return this.resendAck(res);
              done = true;
              this.dialog.refreshTarget(res);
              let ackBody: Buffer | undefined;
              if (body) {
                this.localSdp = body;
                if (res.body.length > 0) this.remoteSdp = res.body;
              } else if (res.body.length > 0) {
                // Their 2xx offered: answer in the ACK (section 14.1, RFC 3264).
                this.remoteSdp = res.body;
                const a = this.localSdp ? answerOfferByDirection(this.localSdp, res.body) : undefined;
                if (a && Buffer.isBuffer(a)) ackBody = this.localSdp = a;
              }
              const ack = this.dialog.createRequest('ACK', {
                cseq: req.cseq.seq,
                headers: credentialsOf(req),
                body: ackBody,
                contentType: ackBody ? 'application/sdp' : undefined,
              });
              this.ua.endpoint.sendAck(ack, dest);
              this.lastAck = { seq: req.cseq.seq, ack, dest };
              const t = negotiatedFrom2xx(res);
              if (t) this.timer.start(t, true);
              else if (this.timer.current?.weRefresh)
                this.timer.start({ interval: this.timer.current.interval, refresher: 'uac' }, true);
              this.emit('modified', {
                remote: false,
                method: 'INVITE',
                offer: body,
                answer: res.body.length > 0 ? res.body : undefined,
              });
              return resolve(res);
            }
            if (done) return;
            if ((res.status === 401 || res.status === 407) && this.options.credentials && !authTried) {
              authTried = true;
              const auth = answerChallenges(req, res, this.options.credentials);
              if (auth) return attempt(build(auth));
            }
            done = true;
            resolve(res);
          },
          onTimeout: () => {
            if (!done) reject(new SipRequestFailed(408, undefined));
          },
          onTransportError: () => {
            if (!done) reject(new SipRequestFailed(503, undefined));
          },
        });
      };
      attempt(build([]));
    }).catch((e: unknown) => {
      if (e instanceof SipRequestFailed && e.status === 408) return syntheticTimeout();
      throw e;
    }) as Promise<SipResponse>;
  }

  /** Sends a non-INVITE request in the dialog (INFO, MESSAGE, OPTIONS ...) and resolves with its final response. */
  async sendInDialog(
    method: string,
    o: { headers?: Array<[string, HeaderValue]>; body?: Buffer; contentType?: string } = {},
  ): Promise<SipResponse> {
    try {
      const { response } = await sendNonInvite(
        this.ua.endpoint,
        (auth) =>
          this.dialog.createRequest(method, {
            headers: [...(o.headers ?? []), ...auth],
            body: o.body,
            contentType: o.contentType,
          }),
        this.ua.nextHop(this.dialog, this.peer),
        this.options.credentials,
      );
      return response;
    } catch (e) {
      if (e instanceof SipRequestFailed && e.status === 408) return syntheticTimeout();
      throw e;
    }
  }

  /** Sends REFER (RFC 3515) in this dialog; the returned sender reports the NOTIFYs. */
  refer(o: ReferOptions): ReferSender {
    if (this._state === 'terminated') throw new SipStateError('SIP_INVALID_ARGUMENT', 'session terminated');
    return new ReferSender(this.ua, this.entry, this.peer, o, this.options.credentials);
  }

  /** Ends the session with BYE (section 15.1.1); resolves with the BYE's final response. */
  async bye(): Promise<SipResponse | undefined> {
    return this.end('local', true);
  }

  private async end(reason: EndReason, sendBye = reason !== 'bye'): Promise<SipResponse | undefined> {
    if (this._state === 'terminated') return undefined;
    this.stopTimers();
    let res: SipResponse | undefined;
    const wasConfirmed = this.dialog.state !== 'terminated';
    this.transition('terminated');
    this.endReason = reason;
    this.emit('terminated', reason);
    try {
      if (sendBye && wasConfirmed) res = await this.sendInDialog('BYE');
    } catch {
      res = undefined; // a BYE that cannot be delivered still ends our side (section 15.1.1)
    } finally {
      this.entry.session = undefined;
      for (const s of [...this.entry.subscriptions.values()]) s.dialogTerminated(reason);
      this.entry.subscriptions.clear();
      this.ua.table.remove(this.entry);
    }
    return res;
  }

  /** Ends the session because an INVITE with Replaces took its place (RFC 3891 section 3). */
  replaced(): Promise<SipResponse | undefined> {
    return this.end('replaced', true);
  }

  /** @internal The dialog ended under us (BYE received, shutdown). */
  dialogTerminated(reason: string): void {
    if (this._state === 'terminated') return;
    this.stopTimers();
    this.transition('terminated');
    this.endReason = reason === 'bye' ? 'bye' : 'shutdown';
    this.emit('terminated', this.endReason);
  }

  private stopTimers(): void {
    this.timer.stop();
    this.ackWait?.wait.ackReceived();
    this.ackWait = undefined;
    if (this.keepAlive !== undefined) this.ua.clock.clearTimer(this.keepAlive);
    this.keepAlive = undefined;
  }

  /** RFC 4028 section 10: refresh with UPDATE when the peer allows it, else re-INVITE. */
  private async refresh(): Promise<void> {
    const cur = this.timer.current;
    if (!cur || this._state !== 'confirmed') return;
    if (this.outgoing !== undefined || this.incomingInvite !== undefined) {
      // An offer in progress: its 2xx restarts the timer; otherwise try again soon.
      this.timer.start({ interval: Math.max(2, Math.ceil(cur.interval / 2)), refresher: 'uac' }, true);
      return;
    }
    const headers: Array<[string, HeaderValue]> = [
      ['Session-Expires', `${cur.interval};refresher=uac`],
      ['Supported', 'timer'],
    ];
    try {
      const res = this.peerAllow.includes('UPDATE')
        ? await this.update({ headers, attempts: 2 })
        : await this.reinvite({ body: this.localSdp, attempts: 2 });
      if (res.status >= 200 && res.status < 300) {
        this.timer.start(negotiatedFrom2xx(res) ?? { interval: cur.interval, refresher: 'uac' }, true);
      } else if (this._state === 'confirmed') await this.end('session-expired');
    } catch (e) {
      if (this._state === 'confirmed') await this.end('session-expired');
      if (!(e instanceof SipRequestFailed)) throw e;
    }
  }

  private startKeepAlive(): void {
    const ms = this.options.keepAliveMs;
    if (!ms) return;
    this.keepAlive = this.ua.clock.setTimer(ms, () => {
      this.keepAlive = undefined;
      if (this._state === 'terminated') return;
      void this.sendInDialog('OPTIONS').then(
        (res) => {
          if (res.status === 481 || res.status === 408)
            return void this.end('keepalive-failed', res.status === 408);
          if (this._state !== 'terminated') this.startKeepAlive();
        },
        () => void this.end('keepalive-failed', false),
      );
    });
  }
}

/** The 408 a UAC acts on when a request times out (RFC 3261 section 8.1.3.1); it has no headers. */
function syntheticTimeout(): SipResponse {
  return new SipResponse(408, 'Request Timeout', []);
}
