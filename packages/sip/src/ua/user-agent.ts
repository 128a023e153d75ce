/**
 * The user-agent core (RFC 3261 sections 8, 12 and 13; SIP.js's `UserAgentCore` is the model):
 * above the transaction layer, it keeps the dialog table, routes requests inside dialogs to their
 * usages (INVITE sessions, subscriptions), matches ACKs for 2xx and retransmitted 2xx to their
 * dialogs, screens every new request as a UAS (section 8.2), and sends requests inside dialogs
 * along the route set to the remote target (section 12.2.1.1). It knows nothing of who the users
 * are: the application gives a {@link UasPolicy} and handlers for new INVITEs, SUBSCRIBEs, REFERs
 * and other requests.
 *
 * What the core answers by itself:
 * - a request failing the section 8.2 checks: 405/501 with Allow, 416, 404, 420, 415, 406;
 * - OPTIONS outside or inside a dialog: 200 with Allow, Accept, Supported (section 11.2);
 * - a request with a To tag naming no dialog: 481 (section 12.2.2); an out-of-order CSeq: 500;
 * - BYE outside a dialog: 481; NOTIFY matching no subscription: 481 (RFC 6665 section 4.1.3);
 * - SUBSCRIBE with no handler: 489 Bad Event (RFC 6665 section 4.2.1.1);
 * - INVITE with Replaces naming no dialog: 481 (RFC 3891 section 3);
 * - a handler that throws: 500, and the error goes to `endpoint.onListenerError`.
 */
import type { DigestCredentials } from '../digest.ts';
import type { Dialog } from '../dialog.ts';
import { type EndpointOptions, SipEndpoint } from '../endpoint.ts';
import { newCallId, newTag } from '../ids.ts';
import { headerFields, type HeaderValue, SipRequest, type SipResponse } from '../message.ts';
import { createResponse } from '../response.ts';
import type { ServerTransaction } from '../transaction/transaction-layer.ts';
import type { Peer, TransportProtocol } from '../transport/transport.ts';
import { TypedEmitter } from '../typed-emitter.ts';
import { optionsResponse, screenRequest, type UasPolicy } from '../uas-guard.ts';
import { peerFromUri } from '../uac.ts';
import type { Uri } from '../uri.ts';
import { type DialogEntry, DialogTable } from './dialog-table.ts';
import { IncomingInvite } from './incoming-invite.ts';
import type { InviteSession, SessionOptions } from './invite-session.ts';
import { OutgoingInvite, type OutgoingInviteOptions } from './outgoing-invite.ts';
import { parseReplaces } from './replaces.ts';
import { sendNonInvite } from './request-sender.ts';
import { IncomingRefer } from './refer.ts';
import {
  IncomingSubscription,
  type SubscriptionUsage,
  Subscriber,
  type SubscribeOptions,
} from './subscription.ts';
import { InviteServerTransaction } from '../transaction/invite-server.ts';

/** What the application handles; everything left out gets the core's default answer. */
export interface UserAgentHandlers {
  /** A new INVITE outside a dialog: call `progress`, `accept` or `reject`. Default: 480. */
  onInvite?(invite: IncomingInvite): void | Promise<void>;
  /** A new SUBSCRIBE: `accept` or `reject`. Default: 489 Bad Event. */
  onSubscribe?(subscription: IncomingSubscription): void | Promise<void>;
  /** A REFER outside a dialog (RFC 3515 section 2.4.2): `accept` or `reject`. Default: 603. */
  onRefer?(refer: IncomingRefer): void | Promise<void>;
  /** A NOTIFY outside any subscription (unsolicited, e.g. message-summary). Default: 481. */
  onUnsolicitedNotify?(tx: ServerTransaction): void | Promise<void>;
  /** Any other request outside a dialog (REGISTER, MESSAGE, ...). Default: 405 with Allow. */
  onRequest?(tx: ServerTransaction): void | Promise<void>;
}

export interface UserAgentOptions extends Omit<EndpointOptions, 'user'> {
  /** Methods, option tags, body types and local targets (RFC 3261 section 8.2). */
  policy: UasPolicy;
  handlers?: UserAgentHandlers;
  /** User part of our Contact URI. Default `ua`. */
  contactUser?: string;
  /** Most dialogs held at once; beyond it new INVITEs and SUBSCRIBEs get 503. Default 200,000. */
  maxDialogs?: number;
  /** Defaults for every INVITE session (session timers, OPTIONS keep-alive). */
  session?: SessionOptions;
  /** Timer C for our INVITEs, ms (section 16.8; default 180 s): no final answer by then, CANCEL. */
  timerCMs?: number;
  /**
   * Resolves a URI whose host is a name to an address. Without it (the default: the core never
   * resolves) requests inside a dialog whose next hop is a name go to the dialog's peer.
   */
  resolve?(uri: Uri, protocol: TransportProtocol): Peer | undefined;
  /** Random numbers in [0, 1), for the glare timers of section 14.1 (tests pass a fixed one). */
  random?(): number;
}

export type UserAgentEvents = {
  /** An INVITE session was established (2xx sent and ACKed, or 2xx received and ACKed). */
  session: [session: InviteSession];
};

/** Options of a request sent outside a dialog with {@link UserAgentCore.request}. */
export interface OutOfDialogRequest {
  method: string;
  /** Request-URI. */
  target: string;
  from: string;
  to?: string;
  dest: Peer;
  headers?: Array<[string, HeaderValue]>;
  body?: Buffer;
  contentType?: string;
  credentials?: DigestCredentials;
  /** Reuse a Call-ID (a REGISTER refresh keeps its Call-ID, RFC 3261 section 10.2.4). */
  callId?: string;
  /** Next CSeq number when reusing a Call-ID. */
  cseq?: number;
}

export class UserAgentCore extends TypedEmitter<UserAgentEvents> {
  readonly endpoint: SipEndpoint;
  readonly policy: UasPolicy;
  /** @internal */
  readonly table = new DialogTable<InviteSession, SubscriptionUsage>();
  /** @internal Subscribers waiting for the 2xx or first NOTIFY that creates their dialog. */
  readonly pendingSubscribers = new Map<string, Subscriber>();
  readonly sessionDefaults: SessionOptions;
  readonly timerCMs: number;
  readonly random: () => number;
  private readonly handlers: UserAgentHandlers;
  private readonly contactUser: string;
  private readonly maxDialogs: number;
  private readonly resolver: UserAgentOptions['resolve'];

  constructor(opts: UserAgentOptions) {
    super();
    this.policy = opts.policy;
    this.handlers = opts.handlers ?? {};
    this.contactUser = opts.contactUser ?? 'ua';
    this.maxDialogs = opts.maxDialogs ?? 200_000;
    this.sessionDefaults = opts.session ?? {};
    this.timerCMs = opts.timerCMs ?? 180_000;
    this.resolver = opts.resolve;
    this.random = opts.random ?? Math.random;
    this.endpoint = new SipEndpoint({
      ...opts,
      user: {
        onRequest: (tx) => this.guard(tx, () => this.receiveRequest(tx)),
        onAck: (ack) => this.table.forRequest(ack)?.session?.receiveAck(ack),
        onStrayResponse: (res) => this.strayResponse(res),
      },
    });
  }

  get clock() {
    return this.endpoint.layer.clock;
  }

  get timers() {
    return this.endpoint.layer.timers;
  }

  /** Dialogs held (early and confirmed). */
  get dialogCount(): number {
    return this.table.size;
  }

  /**
   * Our Contact for a transport, e.g. `<sip:ua@192.0.2.1:5060>` (`;transport=tcp` over TCP). Over TLS a
   * SIPS URI unless `sips` is false: a request to a `sip:` URI over TLS gets `sip:...;transport=tls`
   * (RFC 3261 section 8.1.1.8 requires SIPS only for a SIPS Request-URI; a phone that registered a
   * `sip:` contact may not reach a `sips:` one, so its BYE would be lost).
   */
  contact(protocol: TransportProtocol = 'UDP', sips = true): string {
    const port = this.endpoint.transport(protocol)?.localPort ?? 5060;
    // RFC 3261 sections 8.1.1.8 and 12.1.1: a sips request gets a sips Contact.
    if (protocol === 'TLS' && sips)
      return `<sips:${this.contactUser}@${this.endpoint.advertisedAddress}:${port}>`;
    const t = protocol === 'UDP' ? '' : `;transport=${protocol.toLowerCase()}`;
    return `<sip:${this.contactUser}@${this.endpoint.advertisedAddress}:${port}${t}>`;
  }

  /**
   * Where the next request in `dialog` goes (section 12.2.1.1 and RFC 3263 left to the caller):
   * the first route, else the remote target, when its host is an address (or `resolve` knows
   * it); otherwise `fallback`, the peer the dialog was set up with.
   */
  nextHop(dialog: Dialog, fallback: Peer): Peer {
    if (dialog.flow) return dialog.flow;
    const hop = dialog.nextHop();
    const peer = peerFromUri(hop, fallback.protocol) ?? this.resolver?.(hop, fallback.protocol);
    if (!peer) return fallback;
    // Over a stream, reuse the connection the dialog came in on when the hop is that same peer.
    if (
      fallback.connectionId !== undefined &&
      peer.protocol === fallback.protocol &&
      peer.address === fallback.address &&
      peer.port === fallback.port
    )
      return fallback;
    return peer;
  }

  /** Places a call (see {@link OutgoingInvite}). */
  invite(opts: OutgoingInviteOptions): OutgoingInvite {
    return new OutgoingInvite(this, opts);
  }

  /** Subscribes to an event package (RFC 6665 section 4.1; see {@link Subscriber}). */
  subscribe(opts: SubscribeOptions): Subscriber {
    return new Subscriber(this, opts);
  }

  /**
   * Sends a request outside any dialog (REGISTER, OPTIONS, MESSAGE, PUBLISH ...) and resolves
   * with its final response, answering one 401/407 with `credentials`.
   */
  async request(o: OutOfDialogRequest): Promise<{ request: SipRequest; response: SipResponse }> {
    const fromTag = newTag();
    const callId = o.callId ?? newCallId(this.endpoint.advertisedAddress);
    let seq = o.cseq ?? 1;
    return sendNonInvite(
      this.endpoint,
      (auth) => {
        const pairs: Array<[string, HeaderValue]> = [
          ['Max-Forwards', 70],
          ['From', `<${o.from}>;tag=${fromTag}`],
          ['To', `<${o.to ?? o.target}>`],
          ['Call-ID', callId],
          ['CSeq', `${seq++} ${o.method}`],
          ...(o.headers ?? []),
          ...auth,
        ];
        if (o.body && o.contentType) pairs.push(['Content-Type', o.contentType]);
        return new SipRequest(o.method, o.target, headerFields(pairs), o.body);
      },
      o.dest,
      o.credentials,
    );
  }

  /** Ends every dialog without signalling and closes the transports. */
  async close(): Promise<void> {
    for (const e of [...this.table.values()]) {
      e.session?.dialogTerminated('shutdown');
      for (const s of [...e.subscriptions.values()]) s.dialogTerminated('shutdown');
      this.table.remove(e);
    }
    for (const s of [...this.pendingSubscribers.values()]) s.dialogTerminated('shutdown');
    this.pendingSubscribers.clear();
    await this.endpoint.close();
  }

  /** @internal */
  sessionEstablished(s: InviteSession): void {
    this.emit('session', s);
  }

  /** Whether a new dialog may be created (the `maxDialogs` bound). */
  hasRoomForDialog(): boolean {
    return this.table.size < this.maxDialogs;
  }

  // ---- receiving

  private guard(tx: ServerTransaction, fn: () => void | Promise<void>): void {
    const fail = (e: unknown): void => {
      this.endpoint.onListenerError(e);
      if (tx.state === 'trying' || tx.state === 'proceeding') tx.respond(createResponse(tx.request, 500));
    };
    try {
      const p = fn();
      if (p) p.catch(fail);
    } catch (e) {
      fail(e);
    }
  }

  private async receiveRequest(tx: ServerTransaction): Promise<void> {
    const req = tx.request;
    const rejection = await screenRequest(req, this.policy);
    if (rejection) {
      tx.respond(createResponse(req, rejection.status, { headers: rejection.headers }));
      return;
    }
    if (req.to.tag !== undefined) return this.inDialog(tx, req);
    switch (req.method) {
      case 'OPTIONS':
        tx.respond(optionsResponse(req, this.policy));
        return;
      case 'BYE':
        tx.respond(createResponse(req, 481));
        return;
      case 'INVITE':
        if (!(tx instanceof InviteServerTransaction)) return;
        return this.newInvite(tx, req);
      case 'SUBSCRIBE':
      case 'REFER': {
        const handler = req.method === 'SUBSCRIBE' ? this.handlers.onSubscribe : this.handlers.onRefer;
        if (!handler) {
          tx.respond(createResponse(req, req.method === 'SUBSCRIBE' ? 489 : 603));
          return;
        }
        if (!this.hasRoomForDialog()) {
          tx.respond(createResponse(req, 503, { headers: [['Retry-After', 5]] }));
          return;
        }
        if (req.method === 'REFER') return this.handlers.onRefer!(new IncomingRefer(this, tx, undefined));
        return this.handlers.onSubscribe!(new IncomingSubscription(this, tx));
      }
      case 'NOTIFY': {
        // A NOTIFY may beat the 2xx to our SUBSCRIBE and create the dialog (RFC 6665 4.1.2.4).
        const pending = this.pendingSubscribers.get(`${req.callId}|${req.to.tag ?? ''}`);
        if (pending) return pending.receiveNotify(tx);
        if (this.handlers.onUnsolicitedNotify) return this.handlers.onUnsolicitedNotify(tx);
        tx.respond(createResponse(req, 481));
        return;
      }
      default:
        if (this.handlers.onRequest) return this.handlers.onRequest(tx);
        tx.respond(createResponse(req, 405, { headers: [['Allow', this.policy.allow.join(', ')]] }));
    }
  }

  private newInvite(tx: InviteServerTransaction, req: SipRequest): void | Promise<void> {
    let replaces: DialogEntry<InviteSession, SubscriptionUsage> | undefined;
    const rv = req.get('replaces');
    if (rv !== undefined) {
      const r = parseReplaces(rv);
      replaces = r ? this.table.get(r.callId, r.toTag, r.fromTag) : undefined;
      // RFC 3891 section 3: no such dialog is 481; early-only for a confirmed one is 486.
      if (!r || !replaces?.session) {
        tx.respond(createResponse(req, 481));
        return;
      }
      if (r.earlyOnly && replaces.session.state === 'confirmed') {
        tx.respond(createResponse(req, 486));
        return;
      }
    }
    if (!this.hasRoomForDialog()) {
      tx.respond(createResponse(req, 503, { headers: [['Retry-After', 5]] }));
      return;
    }
    const inv = new IncomingInvite(this, tx, replaces?.session);
    if (!this.handlers.onInvite) {
      inv.reject(480);
      return;
    }
    return this.handlers.onInvite(inv);
  }

  private inDialog(tx: ServerTransaction, req: SipRequest): void | Promise<void> {
    let entry = this.table.forRequest(req);
    if (!entry && req.method === 'NOTIFY') {
      const pending = this.pendingSubscribers.get(`${req.callId}|${req.to.tag ?? ''}`);
      if (pending) return pending.receiveNotify(tx);
    }
    if (!entry) {
      tx.respond(createResponse(req, 481));
      return;
    }
    if (!entry.dialog.receiveRequest(req)) {
      // Section 12.2.2: a lower CSeq than the last one is out of order.
      tx.respond(createResponse(req, 500, { headers: [['Retry-After', 1]] }));
      return;
    }
    switch (req.method) {
      case 'OPTIONS':
        tx.respond(optionsResponse(req, this.policy));
        return;
      case 'BYE':
        tx.respond(createResponse(req, 200));
        entry.session?.dialogTerminated('bye');
        for (const s of [...entry.subscriptions.values()]) s.dialogTerminated('bye');
        entry.session = undefined;
        entry.subscriptions.clear();
        this.table.remove(entry);
        return;
      case 'SUBSCRIBE': {
        const sub = entry.subscriptions.get(subscriptionKey(req));
        if (sub) return sub.receiveRequest(tx);
        if (!this.handlers.onSubscribe) {
          tx.respond(createResponse(req, 489));
          return;
        }
        return this.handlers.onSubscribe(new IncomingSubscription(this, tx, entry));
      }
      case 'NOTIFY': {
        const key = subscriptionKey(req);
        // RFC 3515 section 2.4.6: a NOTIFY for the first REFER of a dialog may omit the id.
        const sub =
          entry.subscriptions.get(key) ??
          (key === 'refer' ? [...entry.subscriptions].find(([k]) => k.startsWith('refer;'))?.[1] : undefined);
        if (sub) return sub.receiveRequest(tx);
        tx.respond(createResponse(req, 481));
        return;
      }
    }
    if (entry.session) return entry.session.receiveRequest(tx, entry);
    tx.respond(createResponse(req, req.method === 'INVITE' ? 481 : 405));
  }

  private strayResponse(res: SipResponse): void {
    // A 2xx retransmitted after the INVITE transaction ended (section 13.2.2.4): ACK it again.
    if (res.cseq.method !== 'INVITE' || res.status < 200 || res.status >= 300) return;
    this.table.forResponse(res)?.session?.resendAck(res);
  }
}

/** `event;id` of a SUBSCRIBE or NOTIFY (RFC 6665 section 8.2.1; REFER's is `refer;id=CSeq`). */
export function subscriptionKey(req: SipRequest | SipResponse): string {
  const ev = req.get('event') ?? (req.cseq.method === 'REFER' ? 'refer' : '');
  return eventKey(ev);
}

/** Canonical `package;id` of an Event header value. */
export function eventKey(event: string): string {
  const parts = event.split(';').map((p) => p.trim());
  const pkg = (parts[0] ?? '').toLowerCase();
  const id = parts.slice(1).find((p) => p.toLowerCase().startsWith('id='));
  return id ? `${pkg};id=${id.slice(3)}` : pkg;
}
