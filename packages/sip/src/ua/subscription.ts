/**
 * SIP-specific event notification (RFC 6665): subscriptions as dialog usages, on both sides.
 *
 * Subscriber ({@link Subscriber}, section 4.1): SUBSCRIBE creates the dialog on its 2xx, or on a
 * NOTIFY that beats the 2xx (section 4.1.2.4); the subscription is refreshed before it expires
 * (section 4.1.2.2) and ended with Expires: 0 (4.1.2.3); a NOTIFY with Subscription-State
 * terminated ends it; no NOTIFY within Timer N (64*T1) of the 2xx ends it too.
 *
 * ```
 *   SUBSCRIBE  +-------------+ NOTIFY pending  +---------+ NOTIFY active +--------+
 *   ---------->| subscribing |---------------->| pending |-------------->| active |
 *              +-------------+ (or active) --------------------------->  +--------+
 *                     | non-2xx, Timer N          | NOTIFY terminated, 481/408,  |
 *                     V                           V refresh failed             V
 *              +---------------------------------------------------------------+
 *              |                          terminated                           |
 *              +---------------------------------------------------------------+
 * ```
 *
 * Notifier ({@link Notifier}, section 4.2): accepting a SUBSCRIBE answers 200 with the granted
 * Expires and sends a NOTIFY at once (4.2.1.1); each refresh is answered and NOTIFYed (4.2.1.2);
 * when the time runs out it sends `terminated;reason=timeout` (4.2.2); a NOTIFY answered 481 or
 * 408 ends it. The implicit subscription of REFER (RFC 3515) is a Notifier of event `refer`.
 *
 * ```
 *   accept  +--------+ notify(active) +--------+  expiry, unsubscribe,  +------------+
 *   ------->| pending|--------------->| active |---------------------->| terminated |
 *           +--------+                +--------+  terminate(), 481/408 +------------+
 * ```
 * Only the first dialog a SUBSCRIBE forks into is kept; NOTIFYs of other forks get 481.
 */
import type { TimerHandle } from '../clock.ts';
import type { DigestCredentials } from '../digest.ts';
import { Dialog } from '../dialog.ts';
import { SipStateError } from '../errors.ts';
import { newCallId, newTag } from '../ids.ts';
import { headerFields, type HeaderValue, SipRequest, type SipResponse } from '../message.ts';
import { createResponse } from '../response.ts';
import type { ServerTransaction } from '../transaction/transaction-layer.ts';
import type { Peer } from '../transport/transport.ts';
import { TypedEmitter } from '../typed-emitter.ts';
import { SipRequestFailed } from '../uac.ts';
import type { DialogEntry, DialogUsage } from './dialog-table.ts';
import type { InviteSession } from './invite-session.ts';
import { answerChallenges, sendNonInvite } from './request-sender.ts';
import { eventKey, type UserAgentCore } from './user-agent.ts';

/** What the core needs of every subscription usage. */
export interface SubscriptionUsage extends DialogUsage {
  /** A SUBSCRIBE (notifier side) or NOTIFY (subscriber side) in the dialog. */
  receiveRequest(tx: ServerTransaction): void;
}

export type SubscriptionState = 'subscribing' | 'pending' | 'active' | 'terminated';

const TRANSITIONS: Record<SubscriptionState, readonly SubscriptionState[]> = {
  subscribing: ['pending', 'active', 'terminated'],
  pending: ['active', 'terminated'],
  active: ['terminated', 'pending'],
  terminated: [],
};

/** `Subscription-State: active;expires=60` (RFC 6665 section 8.2.3), parsed. */
export interface SubscriptionStateHeader {
  state: 'active' | 'pending' | 'terminated' | string;
  expires?: number;
  reason?: string;
  retryAfter?: number;
}

export function parseSubscriptionState(v: string | undefined): SubscriptionStateHeader | undefined {
  if (v === undefined) return undefined;
  const [s, ...params] = v.split(';').map((p) => p.trim());
  const out: SubscriptionStateHeader = { state: (s ?? '').toLowerCase() };
  for (const p of params) {
    const [k, val] = p.split('=').map((x) => x.trim());
    if (k?.toLowerCase() === 'expires') out.expires = Number(val);
    else if (k?.toLowerCase() === 'reason') out.reason = val;
    else if (k?.toLowerCase() === 'retry-after') out.retryAfter = Number(val);
  }
  return out;
}

/** A guarded state holder shared by both sides. */
abstract class SubscriptionBase<E extends Record<string, unknown[]>> extends TypedEmitter<E> {
  protected _state: SubscriptionState;
  protected expiry: TimerHandle | undefined;
  constructor(
    protected readonly ua: UserAgentCore,
    initial: SubscriptionState,
  ) {
    super();
    this._state = initial;
    this.onListenerError = (e) => ua.endpoint.onListenerError(e);
  }

  get state(): SubscriptionState {
    return this._state;
  }

  protected transition(to: SubscriptionState): void {
    if (this._state === to) return;
    if (!TRANSITIONS[this._state].includes(to))
      throw new SipStateError('SIP_ILLEGAL_TRANSITION', `subscription: ${this._state} -> ${to}`);
    this._state = to;
  }

  protected setTimer(ms: number, fn: () => void): void {
    this.clearTimer();
    this.expiry = this.ua.clock.setTimer(ms, () => {
      this.expiry = undefined;
      fn();
    });
  }

  protected clearTimer(): void {
    if (this.expiry !== undefined) this.ua.clock.clearTimer(this.expiry);
    this.expiry = undefined;
  }
}

export interface SubscribeOptions {
  /** Request-URI. */
  target: string;
  from: string;
  to?: string;
  /** Event package, e.g. `presence`, `dialog`, `message-summary`. */
  event: string;
  /** Accept header (the body types we take in NOTIFY). */
  accept?: string[];
  /** Duration we ask for, seconds (default 3600). */
  expires?: number;
  dest: Peer;
  credentials?: DigestCredentials;
  headers?: Array<[string, HeaderValue]>;
}

export type SubscriberEvents = {
  /** A NOTIFY (already answered 200) with its parsed Subscription-State. */
  notify: [req: SipRequest, state: SubscriptionStateHeader];
  terminated: [reason: string];
};

/** Our subscription to someone's events (see the first diagram above). */
export class Subscriber extends SubscriptionBase<SubscriberEvents> implements SubscriptionUsage {
  /** Resolves with the SUBSCRIBE's final 2xx; rejects with {@link SipRequestFailed}. */
  readonly subscribed: Promise<SipResponse>;
  /** The seconds granted by the last 2xx or NOTIFY. */
  expires: number;
  private entry: DialogEntry<InviteSession, SubscriptionUsage> | undefined;
  private readonly callId: string;
  private readonly fromTag = newTag();
  private readonly key: string;
  private seq = 1;
  private endReason: string | undefined;
  private unsubscribing = false;
  private sawNotify = false;

  constructor(
    ua: UserAgentCore,
    private readonly o: SubscribeOptions,
  ) {
    super(ua, 'subscribing');
    this.callId = newCallId(ua.endpoint.advertisedAddress);
    this.expires = o.expires ?? 3600;
    this.key = eventKey(o.event);
    ua.pendingSubscribers.set(`${this.callId}|${this.fromTag}`, this);
    this.subscribed = this.sendInitial();
    this.subscribed.catch(() => {});
  }

  get dialog(): Dialog | undefined {
    return this.entry?.dialog;
  }

  get reason(): string | undefined {
    return this.endReason;
  }

  private headers(expires: number): Array<[string, HeaderValue]> {
    return [
      ['Event', this.o.event],
      ['Expires', expires],
      ['Contact', this.ua.contact(this.o.dest.protocol)],
      ...(this.o.accept ? [['Accept', this.o.accept.join(', ')] as [string, string]] : []),
      ...(this.o.headers ?? []),
    ];
  }

  private sendInitial(): Promise<SipResponse> {
    const o = this.o;
    return new Promise<SipResponse>((resolve, reject) => {
      let authTried = false;
      const attempt = (auth: Array<[string, string]>): void => {
        const req = new SipRequest(
          'SUBSCRIBE',
          o.target,
          headerFields([
            ['Max-Forwards', 70],
            ['From', `<${o.from}>;tag=${this.fromTag}`],
            ['To', `<${o.to ?? o.target}>`],
            ['Call-ID', this.callId],
            ['CSeq', `${this.seq++} SUBSCRIBE`],
            ...this.headers(this.expires),
            ...auth,
          ]),
        );
        let done = false;
        this.ua.endpoint.sendRequest(req, o.dest, {
          onResponse: (res) => {
            if (res.status < 200 || done) return;
            done = true;
            if ((res.status === 401 || res.status === 407) && o.credentials && !authTried) {
              authTried = true;
              const a = answerChallenges(req, res, o.credentials);
              if (a) return attempt(a);
            }
            if (res.status >= 300) {
              this.end(`rejected ${res.status}`);
              return reject(new SipRequestFailed(res.status, res));
            }
            if (!this.entry) this.attach(Dialog.fromResponse(req, res));
            this.granted(Number(res.get('expires') ?? this.expires));
            // Timer N (section 4.1.2.4): the NOTIFY must follow the 2xx.
            if (!this.sawNotify)
              this.setTimer(64 * this.ua.timers.T1, () => this.sawNotify || this.end('timer N'));
            resolve(res);
          },
          onTimeout: () => {
            this.end('timeout');
            reject(new SipRequestFailed(408, undefined));
          },
          onTransportError: () => {
            this.end('transport error');
            reject(new SipRequestFailed(503, undefined));
          },
        });
      };
      attempt([]);
    });
  }

  private attach(dialog: Dialog): void {
    this.ua.pendingSubscribers.delete(`${this.callId}|${this.fromTag}`);
    this.entry = this.ua.table.add(dialog);
    this.entry.subscriptions.set(this.key, this);
  }

  /** Schedules the refresh (section 4.1.2.2): half-way for short grants, 32 s early otherwise. */
  private granted(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds <= 0 || this._state === 'terminated') return;
    this.expires = seconds;
    if (!this.sawNotify) return; // Timer N runs until the first NOTIFY
    const ms = seconds > 64 ? (seconds - 32) * 1000 : (seconds * 1000) / 2;
    this.setTimer(ms, () => void this.refresh());
  }

  /** @internal The NOTIFY that may create the dialog before the 2xx (section 4.1.2.4). */
  receiveNotify(tx: ServerTransaction): void {
    if (!this.entry) {
      const d = Dialog.fromRequest(tx.request, this.fromTag, 'confirmed', true);
      d.localSeq = this.seq - 1;
      this.attach(d);
      d.receiveRequest(tx.request);
    }
    this.receiveRequest(tx);
  }

  /** @internal */
  receiveRequest(tx: ServerTransaction): void {
    const req = tx.request;
    if (req.method !== 'NOTIFY') {
      tx.respond(createResponse(req, 489));
      return;
    }
    const st = parseSubscriptionState(req.get('subscription-state'));
    if (!st) {
      tx.respond(createResponse(req, 400, { reason: 'Missing Subscription-State' }));
      return;
    }
    tx.respond(createResponse(req, 200));
    this.sawNotify = true;
    if (this._state === 'terminated') return;
    if (st.state === 'terminated') {
      this.emit('notify', req, st);
      this.end(st.reason ?? 'terminated');
      return;
    }
    this.transition(st.state === 'pending' ? 'pending' : 'active');
    this.emit('notify', req, st);
    if (!this.unsubscribing) this.granted(st.expires ?? this.expires);
  }

  /** Refreshes now (section 4.1.2.2); a 481 or 408 ends the subscription. */
  async refresh(expires = this.o.expires ?? 3600): Promise<SipResponse | undefined> {
    const entry = this.entry;
    if (!entry || this._state === 'terminated') return undefined;
    try {
      const { response } = await sendNonInvite(
        this.ua.endpoint,
        (auth) => entry.dialog.createRequest('SUBSCRIBE', { headers: [...this.headers(expires), ...auth] }),
        this.ua.nextHop(entry.dialog, this.o.dest),
        this.o.credentials,
      );
      if (response.status >= 200 && response.status < 300) {
        if (expires > 0) this.granted(Number(response.get('expires') ?? expires));
      } else if (response.status === 481 || response.status === 408 || expires > 0)
        this.end(`refresh ${response.status}`);
      return response;
    } catch (e) {
      this.end('refresh failed');
      if (!(e instanceof SipRequestFailed)) throw e;
      return undefined;
    }
  }

  /** Unsubscribes (Expires: 0, section 4.1.2.3); the notifier's last NOTIFY ends it. */
  async unsubscribe(): Promise<void> {
    if (this._state === 'terminated') return;
    if (!this.entry) await this.subscribed.catch(() => undefined);
    this.unsubscribing = true;
    this.clearTimer();
    const res = await this.refresh(0);
    // Without a final NOTIFY within Timer N the subscription is over anyway.
    if (res && res.status < 300 && this.state !== 'terminated')
      this.setTimer(64 * this.ua.timers.T1, () => this.end('unsubscribed'));
    else this.end('unsubscribed');
  }

  private end(reason: string): void {
    if (this._state === 'terminated') return;
    this.clearTimer();
    this.transition('terminated');
    this.endReason = reason;
    this.ua.pendingSubscribers.delete(`${this.callId}|${this.fromTag}`);
    if (this.entry) {
      if (this.entry.subscriptions.get(this.key) === this) this.entry.subscriptions.delete(this.key);
      this.ua.table.release(this.entry);
    }
    this.emit('terminated', reason);
  }

  /** @internal */
  dialogTerminated(reason: string): void {
    this.end(reason);
  }
}

/** A new SUBSCRIBE, until the application accepts or rejects it (RFC 6665 section 4.2.1). */
export class IncomingSubscription {
  readonly request: SipRequest;
  /** The event package and id (`presence`, `dialog;id=7`). */
  readonly event: string;
  /** The duration asked for, seconds (default per package; 3600 here). */
  readonly expires: number;

  constructor(
    private readonly ua: UserAgentCore,
    readonly tx: ServerTransaction,
    private readonly entry?: DialogEntry<InviteSession, SubscriptionUsage>,
  ) {
    this.request = tx.request;
    this.event = tx.request.get('event') ?? '';
    this.expires = Number(tx.request.get('expires') ?? 3600);
  }

  /**
   * Answers 200 with the granted duration (at most `maxExpires`) and sends the first NOTIFY
   * (section 4.2.1.1), `pending` until the application calls `notify` with `active`.
   */
  accept(
    o: {
      maxExpires?: number;
      state?: 'active' | 'pending';
      body?: Buffer | string;
      contentType?: string;
    } = {},
  ): Notifier {
    const expires = Math.min(this.expires, o.maxExpires ?? 3600);
    const entry = this.entry ?? this.ua.table.add(Dialog.fromRequest(this.request, newTag()));
    const n = new Notifier(this.ua, entry, this.tx.peer, this.event, expires, o.maxExpires ?? 3600);
    entry.subscriptions.set(eventKey(this.event), n);
    this.tx.respond(
      createResponse(this.request, 200, {
        toTag: entry.dialog.id.localTag,
        headers: [
          ['Expires', expires],
          ['Contact', this.ua.contact(this.tx.peer.protocol)],
        ],
      }),
    );
    void n.notify({ state: o.state ?? 'pending', body: o.body, contentType: o.contentType });
    return n;
  }

  /** Rejects (e.g. 403, 489 Bad Event). */
  reject(status = 403): void {
    this.tx.respond(createResponse(this.request, status));
  }
}

export type NotifierEvents = {
  /** The subscriber refreshed (a NOTIFY with the last body has been sent). */
  refreshed: [expires: number];
  terminated: [reason: string];
};

/** Our side of someone's subscription (see the second diagram above). */
export class Notifier extends SubscriptionBase<NotifierEvents> implements SubscriptionUsage {
  private expiresAt: number;
  private last: { body?: Buffer; contentType?: string } = {};

  constructor(
    ua: UserAgentCore,
    readonly entry: DialogEntry<InviteSession, SubscriptionUsage>,
    readonly peer: Peer,
    /** The Event header value NOTIFYs carry. */
    readonly event: string,
    expires: number,
    /** The longest a refresh is granted, seconds. */
    private readonly maxExpires = 3600,
  ) {
    super(ua, 'pending');
    this.expiresAt = ua.clock.now() + expires * 1000;
    this.armExpiry();
  }

  get dialog(): Dialog {
    return this.entry.dialog;
  }

  private remaining(): number {
    return Math.max(0, Math.round((this.expiresAt - this.ua.clock.now()) / 1000));
  }

  private armExpiry(): void {
    this.setTimer(this.expiresAt - this.ua.clock.now(), () => void this.terminate('timeout'));
  }

  /**
   * Sends a NOTIFY (section 4.2.2) with Subscription-State `state` and the remaining time. A 481
   * or 408 answer ends the subscription (section 4.2.2).
   */
  async notify(
    o: { state?: 'active' | 'pending'; body?: Buffer | string; contentType?: string } = {},
  ): Promise<SipResponse | undefined> {
    if (this._state === 'terminated') return undefined;
    const state =
      o.state ?? (this._state === 'subscribing' ? 'pending' : (this._state as 'active' | 'pending'));
    this.transition(state);
    const body = typeof o.body === 'string' ? Buffer.from(o.body) : o.body;
    if (body) this.last = { body, contentType: o.contentType };
    return this.send(`${state};expires=${this.remaining()}`, body, o.contentType);
  }

  /** Ends the subscription with a final NOTIFY (`terminated;reason=...`, section 4.2.2). */
  async terminate(
    reason = 'noresource',
    final?: { body?: Buffer | string; contentType?: string },
  ): Promise<SipResponse | undefined> {
    if (this._state === 'terminated') return undefined;
    this.clearTimer();
    this.transition('terminated');
    const body = typeof final?.body === 'string' ? Buffer.from(final.body) : final?.body;
    const res = await this.send(
      `terminated;reason=${reason}`,
      body ?? this.last.body,
      body ? final?.contentType : this.last.contentType,
      true,
    );
    this.finish(reason);
    return res;
  }

  private async send(
    state: string,
    body: Buffer | undefined,
    contentType: string | undefined,
    final = false,
  ): Promise<SipResponse | undefined> {
    try {
      const { response } = await sendNonInvite(
        this.ua.endpoint,
        (auth) =>
          this.entry.dialog.createRequest('NOTIFY', {
            contact: this.ua.contact(this.peer.protocol),
            headers: [['Event', this.event], ['Subscription-State', state], ...auth],
            body,
            contentType,
          }),
        this.ua.nextHop(this.entry.dialog, this.peer),
      );
      if (!final && (response.status === 481 || response.status === 408)) {
        this.clearTimer();
        if (this._state !== 'terminated') this.transition('terminated');
        this.finish(`notify ${response.status}`);
      }
      return response;
    } catch (e) {
      if (!final && this._state !== 'terminated') {
        this.clearTimer();
        this.transition('terminated');
        this.finish('notify failed');
      }
      if (!(e instanceof SipRequestFailed)) throw e;
      return undefined;
    }
  }

  private finish(reason: string): void {
    const key = eventKey(this.event);
    if (this.entry.subscriptions.get(key) === this) this.entry.subscriptions.delete(key);
    if (this.entry.dialog.state !== 'terminated') this.ua.table.release(this.entry);
    this.emit('terminated', reason);
  }

  /** @internal A SUBSCRIBE refresh or unsubscribe in the dialog (section 4.2.1.2). */
  receiveRequest(tx: ServerTransaction): void {
    const req = tx.request;
    if (req.method !== 'SUBSCRIBE' || this._state === 'terminated') {
      tx.respond(createResponse(req, 481));
      return;
    }
    const expires = Math.min(Number(req.get('expires') ?? 3600), this.maxExpires);
    tx.respond(createResponse(req, 200, { headers: [['Expires', expires]] }));
    this.expiresAt = this.ua.clock.now() + expires * 1000;
    if (expires === 0) {
      void this.terminate('timeout');
      return;
    }
    this.armExpiry();
    void this.notify({ body: this.last.body, contentType: this.last.contentType });
    this.emit('refreshed', expires);
  }

  /** @internal */
  dialogTerminated(reason: string): void {
    if (this._state === 'terminated') return;
    this.clearTimer();
    this.transition('terminated');
    this.emit('terminated', reason);
  }
}
