/**
 * An INVITE we send outside a dialog (RFC 3261 section 13.2), until it is answered or fails:
 * - each 1xx with a To tag makes an early dialog (section 12.1.2), one per fork;
 * - the first 2xx confirms its dialog (route set recomputed, section 13.2.2.4), is ACKed along the
 *   route set, and gives the {@link InviteSession}; every retransmission of it is ACKed again;
 * - a 2xx from another fork is ACKed and then ended with BYE (section 13.2.2.4: a UA that wants
 *   one session);
 * - 401/407 are answered once with the credentials (section 22.2), 422 once with the Min-SE asked
 *   for (RFC 4028 section 7.4);
 * - `cancel()` sends CANCEL (section 9.1), at once after a provisional response or as soon as
 *   one arrives; a 2xx that crosses the CANCEL is ACKed and BYEd;
 * - Timer C (section 16.8, here for the UA): no final response `timerCMs` after the last
 *   provisional, the INVITE is cancelled.
 *
 * ```
 *   +---------+ 1xx  +-------------+  2xx (first)  +----------+
 *   | calling |----->| proceeding  |-------------->| answered |
 *   +---------+      +-------------+               +----------+
 *     |   | 2xx          |  cancel() / Timer C
 *     |   +--------------)----------------------------> answered
 *     |                  V
 *     |            +------------+ 487 or any final  +--------+
 *     |            | cancelling |------------------->| failed |
 *     |            +------------+                   +--------+
 *     +-- 3xx-6xx, timeout, transport error ------------^
 * ```
 */
import type { TimerHandle } from '../clock.ts';
import type { DigestCredentials } from '../digest.ts';
import { Dialog } from '../dialog.ts';
import { SipStateError } from '../errors.ts';
import { newCallId, newTag } from '../ids.ts';
import { headerFields, type HeaderValue, SipRequest, type SipResponse } from '../message.ts';
import type { InviteClientTransaction } from '../transaction/invite-client.ts';
import type { Peer } from '../transport/transport.ts';
import { TypedEmitter } from '../typed-emitter.ts';
import { SipRequestFailed } from '../uac.ts';
import type { DialogEntry } from './dialog-table.ts';
import { InviteSession, type SessionOptions } from './invite-session.ts';
import { answerChallenges, credentialsOf } from './request-sender.ts';
import { negotiatedFrom2xx, uacTimerHeaders } from './session-timer.ts';
import type { SubscriptionUsage } from './subscription.ts';
import type { UserAgentCore } from './user-agent.ts';

export interface OutgoingInviteOptions {
  /** Request-URI. */
  target: string;
  /** Our address of record (From). */
  from: string;
  /** The callee's address of record (To); defaults to the target. */
  to?: string;
  /** Where the INVITE goes (an outbound proxy or the target itself); nothing is resolved. */
  dest: Peer;
  /**
   * `dest` is the callee's registered flow (RFC 5626 section 5.3): the dialog's requests (ACK, BYE,
   * re-INVITEs) go on it too, not to the Contact of the answer (see `Dialog.flow`).
   */
  flow?: boolean;
  /** Route headers to put on the INVITE (a preloaded route set, section 8.1.1.1). */
  route?: string[];
  sdp?: string | Buffer;
  /**
   * A body other than the bare SDP, sent instead of it with its own Content-Type: a multipart/mixed
   * (RFC 5621) holding the SDP and another part (an RFC 6442 location). `sdp` must still be given:
   * it stays the session's local description (re-INVITEs, answers to the peer's offers).
   */
  body?: { contentType: string; content: string | Buffer };
  credentials?: DigestCredentials;
  headers?: Array<[string, HeaderValue]>;
  session?: SessionOptions;
  /** Overrides the core's Timer C for this call, ms. */
  timerCMs?: number;
}

export type OutgoingInviteState = 'calling' | 'proceeding' | 'cancelling' | 'answered' | 'failed';

const TRANSITIONS: Record<OutgoingInviteState, readonly OutgoingInviteState[]> = {
  calling: ['proceeding', 'cancelling', 'answered', 'failed'],
  proceeding: ['cancelling', 'answered', 'failed'],
  cancelling: ['failed'],
  answered: [],
  failed: [],
};

export type OutgoingInviteEvents = {
  /** A provisional response; `early` is its early dialog when it had a To tag. */
  progress: [res: SipResponse, early: Dialog | undefined];
  /** A 2xx from another fork after the first: it was ACKed and is being ended with BYE. */
  forked: [res: SipResponse];
};

export class OutgoingInvite extends TypedEmitter<OutgoingInviteEvents> {
  /** Resolves with the session on the first 2xx; rejects with {@link SipRequestFailed}. */
  readonly answered: Promise<InviteSession>;
  /** The INVITE as last sent (after a challenge, the one with credentials). */
  request!: SipRequest;
  private _state: OutgoingInviteState = 'calling';
  private tx: InviteClientTransaction | undefined;
  private readonly early = new Map<string, DialogEntry<InviteSession, SubscriptionUsage>>();
  /** Dialogs confirmed by a 2xx, by To tag, with their ACK (for retransmissions). */
  private readonly confirmed = new Map<string, { ack: SipRequest; dest: Peer }>();
  private timerC: TimerHandle | undefined;
  private readonly callId: string;
  private readonly fromTag = newTag();
  private seq = 1;
  private authTried = false;
  private minSE: number | undefined;
  private resolve!: (s: InviteSession) => void;
  private reject!: (e: unknown) => void;
  private readonly sessionOptions: SessionOptions;

  constructor(
    private readonly ua: UserAgentCore,
    private readonly o: OutgoingInviteOptions,
  ) {
    super();
    this.onListenerError = (e) => ua.endpoint.onListenerError(e);
    this.callId = newCallId(ua.endpoint.advertisedAddress);
    this.sessionOptions = { ...ua.sessionDefaults, ...o.session };
    this.answered = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    this.answered.catch(() => {}); // callers that never await must not crash the process
    this.send([]);
    this.armTimerC();
  }

  get state(): OutgoingInviteState {
    return this._state;
  }

  private transition(to: OutgoingInviteState): void {
    if (!TRANSITIONS[this._state].includes(to))
      throw new SipStateError('SIP_ILLEGAL_TRANSITION', `outgoing INVITE: ${this._state} -> ${to}`);
    this._state = to;
  }

  /**
   * Cancels the call (section 9.1). Returns false when it is too late (answered or failed). The
   * CANCEL waits for a provisional response if none came yet; the INVITE then ends with 487.
   * `headers` go on the CANCEL (a Reason, RFC 3326).
   */
  cancel(headers: Array<[string, HeaderValue]> = []): boolean {
    if (this._state !== 'calling' && this._state !== 'proceeding') return false;
    this.transition('cancelling');
    if (this.tx) this.ua.endpoint.layer.cancel(this.tx, undefined, headers);
    return true;
  }

  private build(auth: Array<[string, string]>): SipRequest {
    const o = this.o;
    const timer = this.sessionOptions.sessionTimer;
    const raw = o.body ? o.body.content : o.sdp;
    const body = typeof raw === 'string' ? Buffer.from(raw) : raw;
    const pairs: Array<[string, HeaderValue]> = [
      ['Max-Forwards', 70],
      ['From', `<${o.from}>;tag=${this.fromTag}`],
      ['To', `<${o.to ?? o.target}>`],
      ['Call-ID', this.callId],
      ['CSeq', `${this.seq++} INVITE`],
      ['Contact', this.ua.contact(o.dest.protocol, /^sips:/i.test(o.target))],
      ['Allow', this.ua.policy.allow.join(', ')],
      ['Supported', ['timer', ...this.ua.policy.supported.filter((t) => t !== 'timer')].join(', ')],
      ...(o.route ?? []).map((r) => ['Route', r] as [string, string]),
      ...(timer
        ? uacTimerHeaders(
            { ...timer, minSE: Math.max(timer.minSE, this.minSE ?? 0) },
            Math.max(timer.sessionExpires, this.minSE ?? 0),
          )
        : []),
      ...(o.headers ?? []),
      ...auth,
    ];
    if (body) pairs.push(['Content-Type', o.body ? o.body.contentType : 'application/sdp']);
    return new SipRequest('INVITE', o.target, headerFields(pairs), body);
  }

  private send(auth: Array<[string, string]>): void {
    const req = this.build(auth);
    this.request = req;
    this.tx = this.ua.endpoint.sendRequest(req, this.o.dest, {
      onResponse: (res) => this.receive(req, res),
      onTimeout: () => this.fail(new SipRequestFailed(408, undefined)),
      onTransportError: () => this.fail(new SipRequestFailed(503, undefined)),
      onTerminated: () => {
        // No 2xx can be matched any more (Timer M, RFC 6026): the early dialogs are over.
        if (this.tx?.request === req) this.dropEarly();
      },
    }) as InviteClientTransaction;
  }

  private armTimerC(): void {
    if (this.timerC !== undefined) this.ua.clock.clearTimer(this.timerC);
    this.timerC = this.ua.clock.setTimer(this.o.timerCMs ?? this.ua.timerCMs, () => {
      this.timerC = undefined;
      this.cancel();
    });
  }

  private stopTimerC(): void {
    if (this.timerC !== undefined) this.ua.clock.clearTimer(this.timerC);
    this.timerC = undefined;
  }

  private receive(req: SipRequest, res: SipResponse): void {
    if (req !== this.request) {
      // A late answer to an INVITE we re-sent with credentials: only a 2xx matters (to be ended).
      if (res.status >= 200 && res.status < 300) this.extra2xx(req, res);
      return;
    }
    const s = res.status;
    if (s < 200) {
      if (this._state === 'calling') this.transition('proceeding');
      if (this._state === 'proceeding') this.armTimerC();
      const tag = res.to.tag;
      let early: Dialog | undefined;
      if (tag !== undefined && s > 100 && res.contact.length > 0) {
        let e = this.early.get(tag);
        if (!e) {
          e = this.ua.table.add(Dialog.fromResponse(req, res));
          if (this.o.flow) e.dialog.flow = this.o.dest;
          this.early.set(tag, e);
        }
        early = e.dialog;
      }
      this.emit('progress', res, early);
      return;
    }
    if (s < 300) return this.receive2xx(req, res);
    if ((s === 401 || s === 407) && this.o.credentials && !this.authTried && this._state !== 'cancelling') {
      this.authTried = true;
      const auth = answerChallenges(req, res, this.o.credentials);
      if (auth) return this.send(auth);
    }
    if (
      s === 422 &&
      this.minSE === undefined &&
      this.sessionOptions.sessionTimer &&
      this._state !== 'cancelling'
    ) {
      const min = Number(res.get('min-se')?.split(';')[0]);
      if (Number.isInteger(min) && min > 0) {
        this.minSE = min;
        return this.send([]);
      }
    }
    this.fail(new SipRequestFailed(s, res));
  }

  private receive2xx(req: SipRequest, res: SipResponse): void {
    const tag = res.to.tag ?? '';
    const seen = this.confirmed.get(tag);
    if (seen) {
      this.ua.endpoint.sendStateless(seen.ack, seen.dest); // a retransmission: our ACK was lost
      return;
    }
    if (this._state === 'answered' || this._state === 'failed' || this._state === 'cancelling') {
      this.extra2xx(req, res);
      if (this._state === 'cancelling') this.fail(new SipRequestFailed(487, res));
      return;
    }
    this.stopTimerC();
    this.transition('answered');
    const entry = this.confirm(req, res);
    const sdp = typeof this.o.sdp === 'string' ? Buffer.from(this.o.sdp) : this.o.sdp;
    const session = new InviteSession(this.ua, entry, this.o.dest, this.sessionOptions, {
      localSdp: this.o.body ? sdp : req.body.length > 0 ? req.body : undefined,
      remoteSdp: res.body.length > 0 ? res.body : undefined,
      peerAllow: res.values('allow'),
    });
    entry.session = session;
    const c = this.confirmed.get(tag)!;
    session.established(c.ack, c.dest, negotiatedFrom2xx(res));
    // Early dialogs of other forks end when the transaction does (Timer M); none will be a session.
    this.resolve(session);
  }

  /** Confirms (or creates) the dialog of a 2xx and ACKs it along its route set. */
  private confirm(req: SipRequest, res: SipResponse): DialogEntry<InviteSession, SubscriptionUsage> {
    const tag = res.to.tag ?? '';
    let entry = this.early.get(tag);
    this.early.delete(tag);
    if (entry && entry.dialog.state === 'early') entry.dialog.confirm(res);
    else entry = this.ua.table.add(Dialog.fromResponse(req, res));
    if (this.o.flow) entry.dialog.flow = this.o.dest;
    const dest = this.ua.nextHop(entry.dialog, this.o.dest);
    // Section 13.2.2.4: CSeq of the INVITE, the INVITE's credentials, built like an in-dialog request.
    const ack = entry.dialog.createRequest('ACK', { cseq: req.cseq.seq, headers: credentialsOf(req) });
    this.ua.endpoint.sendAck(ack, dest);
    this.confirmed.set(tag, { ack, dest });
    return entry;
  }

  /** A 2xx we do not want (another fork, or after CANCEL): ACK it, then BYE (section 13.2.2.4). */
  private extra2xx(req: SipRequest, res: SipResponse): void {
    const tag = res.to.tag ?? '';
    if (this.confirmed.has(tag))
      return this.ua.endpoint.sendStateless(this.confirmed.get(tag)!.ack, this.confirmed.get(tag)!.dest);
    const entry = this.confirm(req, res);
    this.emit('forked', res);
    const bye = entry.dialog.createRequest('BYE');
    this.ua.table.remove(entry);
    this.ua.endpoint.sendRequest(bye, this.ua.nextHop(entry.dialog, this.o.dest), { onResponse() {} });
  }

  private fail(e: SipRequestFailed): void {
    if (this._state === 'answered' || this._state === 'failed') return;
    this.stopTimerC();
    this.transition('failed');
    this.dropEarly();
    this.reject(e);
  }

  private dropEarly(): void {
    for (const e of this.early.values()) if (e.session === undefined) this.ua.table.remove(e);
    this.early.clear();
  }
}
