/**
 * A new INVITE received outside a dialog, until the application answers it (RFC 3261 section
 * 13.3): `progress` sends a provisional response, which with a To tag creates an early dialog
 * (section 12.1.1); `accept` sends the 2xx, creates (or confirms) the dialog and hands back the
 * {@link InviteSession}, which retransmits the 2xx until the ACK (section 13.3.1.4); `reject`
 * sends a final non-2xx. A CANCEL (section 9.2) answers 487 and ends the early dialog.
 *
 * ```
 *   INVITE  +---------+ progress(1xx) +-------+ accept  +----------+
 *   ------->| pending |-------------->| early |-------->| accepted |
 *           +---------+               +-------+         +----------+
 *             | reject, CANCEL          | reject, CANCEL
 *             V                         V
 *           +------------------------------+
 *           |           rejected           |
 *           +------------------------------+
 * ```
 * (pending -> accepted directly when the 2xx is the first response.)
 */
import { Dialog } from '../dialog.ts';
import { SipStateError } from '../errors.ts';
import { newTag } from '../ids.ts';
import type { HeaderValue, SipRequest } from '../message.ts';
import { createResponse } from '../response.ts';
import type { InviteServerTransaction } from '../transaction/invite-server.ts';
import { TypedEmitter } from '../typed-emitter.ts';
import type { DialogEntry } from './dialog-table.ts';
import { InviteSession, type SessionOptions } from './invite-session.ts';
import { negotiateUas } from './session-timer.ts';
import type { SubscriptionUsage } from './subscription.ts';
import type { UserAgentCore } from './user-agent.ts';

export type IncomingInviteState = 'pending' | 'early' | 'accepted' | 'rejected';

const TRANSITIONS: Record<IncomingInviteState, readonly IncomingInviteState[]> = {
  pending: ['early', 'accepted', 'rejected'],
  early: ['accepted', 'rejected'],
  accepted: [],
  rejected: [],
};

export type IncomingInviteEvents = {
  /** The caller cancelled (section 9.2); 487 has been sent. */
  cancelled: [];
};

export interface AnswerOptions {
  body?: Buffer | string;
  contentType?: string;
  headers?: Array<[string, HeaderValue]>;
}

export class IncomingInvite extends TypedEmitter<IncomingInviteEvents> {
  readonly tx: InviteServerTransaction;
  readonly request: SipRequest;
  /** The session a `Replaces` header names (RFC 3891), already checked to exist. */
  readonly replaces: InviteSession | undefined;
  private _state: IncomingInviteState = 'pending';
  private readonly tag = newTag();
  private early: DialogEntry<InviteSession, SubscriptionUsage> | undefined;

  constructor(
    private readonly ua: UserAgentCore,
    tx: InviteServerTransaction,
    replaces?: InviteSession,
  ) {
    super();
    this.tx = tx;
    this.request = tx.request;
    this.replaces = replaces;
    this.onListenerError = (e) => ua.endpoint.onListenerError(e);
    tx.on('cancel', () => {
      if (this._state !== 'pending' && this._state !== 'early') return;
      this.transition('rejected');
      this.dropEarly();
      this.emit('cancelled');
    });
  }

  get state(): IncomingInviteState {
    return this._state;
  }

  private transition(to: IncomingInviteState): void {
    if (!TRANSITIONS[this._state].includes(to))
      throw new SipStateError('SIP_ILLEGAL_TRANSITION', `incoming INVITE: ${this._state} -> ${to}`);
    this._state = to;
  }

  /** Whether a dialog can be made: an INVITE must carry a Contact (RFC 3261 section 8.1.1.8). */
  get canCreateDialog(): boolean {
    return this.request.contact.length > 0;
  }

  /** Sends a provisional response (default 180); with a Contact it creates the early dialog. */
  progress(status = 180, o: AnswerOptions = {}): void {
    if (status < 101 || status > 199) throw new SipStateError('SIP_INVALID_ARGUMENT', `not a 1xx: ${status}`);
    if (this._state !== 'pending' && this._state !== 'early') return;
    if (this._state === 'pending' && this.canCreateDialog) {
      this.early = this.ua.table.add(Dialog.fromRequest(this.request, this.tag, 'early'));
      this.transition('early');
    }
    this.tx.respond(this.response(status, o));
  }

  /**
   * Sends the 2xx and returns the session (waiting for the ACK), or undefined when the INVITE
   * cannot make a dialog (no Contact: answered 400) or it was cancelled meanwhile. Session
   * timers (RFC 4028) are negotiated here: a Session-Expires below our Min-SE gets 422.
   */
  accept(o: AnswerOptions & { session?: SessionOptions } = {}): InviteSession | undefined {
    if (this._state !== 'pending' && this._state !== 'early') return undefined;
    if (!this.canCreateDialog) {
      this.reject(400, { reason: 'Missing Contact' });
      return undefined;
    }
    const options = { ...this.ua.sessionDefaults, ...o.session };
    const timer = negotiateUas(this.request, options.sessionTimer);
    if (timer && 'minSE' in timer) {
      this.reject(422, { headers: [['Min-SE', timer.minSE]] });
      return undefined;
    }
    const entry = this.early ?? this.ua.table.add(Dialog.fromRequest(this.request, this.tag, 'confirmed'));
    if (entry.dialog.state === 'early') entry.dialog.transition('confirmed');
    this.transition('accepted');
    const body = typeof o.body === 'string' ? Buffer.from(o.body) : o.body;
    const session = new InviteSession(this.ua, entry, this.tx.peer, options, {
      localSdp: body,
      remoteSdp: this.request.body.length > 0 ? this.request.body : undefined,
      peerAllow: this.request.values('allow'),
    });
    entry.session = session;
    const ok = this.response(200, {
      ...o,
      body,
      contentType: body ? (o.contentType ?? 'application/sdp') : undefined,
      headers: [
        ['Contact', this.ua.contact(this.tx.peer.protocol)],
        ['Allow', this.ua.policy.allow.join(', ')],
        ...(this.ua.policy.supported.length > 0
          ? [['Supported', this.ua.policy.supported.join(', ')] as [string, string]]
          : []),
        ...(timer ? timer.headers : []),
        ...(o.headers ?? []),
      ],
    });
    session.sendInitial2xx(this.tx, ok, timer ? timer.timer : undefined);
    return session;
  }

  /** Sends a final non-2xx (default 486) and ends the early dialog. */
  reject(status = 486, o: AnswerOptions & { reason?: string } = {}): void {
    if (status < 300) throw new SipStateError('SIP_INVALID_ARGUMENT', `not a rejection: ${status}`);
    if (this._state !== 'pending' && this._state !== 'early') return;
    this.transition('rejected');
    this.dropEarly();
    this.tx.respond(
      createResponse(this.request, status, { toTag: this.tag, reason: o.reason, headers: o.headers }),
    );
  }

  private dropEarly(): void {
    if (this.early) this.ua.table.remove(this.early);
    this.early = undefined;
  }

  private response(status: number, o: AnswerOptions) {
    const body = typeof o.body === 'string' ? Buffer.from(o.body) : o.body;
    const headers =
      status < 200 && this.canCreateDialog
        ? [['Contact', this.ua.contact(this.tx.peer.protocol)] as [string, HeaderValue]]
        : [];
    return createResponse(this.request, status, {
      toTag: this.tag,
      headers: [...headers, ...(o.headers ?? [])],
      body,
      contentType: body ? (o.contentType ?? 'application/sdp') : undefined,
    });
  }
}
