/**
 * Dialogs (RFC 3261 section 12): the peer-to-peer relationship an INVITE (or SUBSCRIBE) sets up,
 * with its identifiers, sequence numbers, remote target and route set, and the construction of
 * requests inside it (section 12.2.1.1, including strict routing of RFC 2543 proxies).
 *
 * ```
 *   1xx with To tag          2xx
 *   --------------> Early ---------> Confirmed
 *   (UAC or UAS)      |                  | BYE sent/received, or teardown
 *                     | non-2xx final    V
 *                     +-------------> Terminated
 * ```
 */
import { NameAddr, parseNameAddr } from './address.ts';
import { SipStateError } from './errors.ts';
import { headerFields, type HeaderValue, SipRequest, type SipResponse } from './message.ts';
import { isSipUri, type Uri } from './uri.ts';
import type { Peer } from './transport/transport.ts';

export type DialogState = 'early' | 'confirmed' | 'terminated';

const TRANSITIONS: Record<DialogState, readonly DialogState[]> = {
  early: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};

/** Dialog ID (section 12): Call-ID, local tag and remote tag. */
export interface DialogId {
  callId: string;
  localTag: string;
  remoteTag: string;
}

/** `callId|localTag|remoteTag`, the key dialogs are stored under. */
export function dialogKey(id: DialogId): string {
  return `${id.callId}|${id.localTag}|${id.remoteTag}`;
}

export class Dialog {
  readonly id: DialogId;
  private _state: DialogState;
  /** Our CSeq for requests we send (section 12.2.1.1); undefined until first used by a UAS. */
  localSeq: number | undefined;
  /** The peer's last CSeq (section 12.2.2); undefined until it sends one (UAC side). */
  remoteSeq: number | undefined;
  /** Our URI (From in our requests), with our tag. */
  readonly local: NameAddr;
  /** The peer's URI (To in our requests), with its tag. */
  readonly remote: NameAddr;
  /** Where requests go: the peer's Contact (updated by target refresh, section 12.2). */
  remoteTarget: Uri;
  /** Route set in the order our requests carry it (section 12.1). */
  readonly routeSet: string[];
  /**
   * The registered flow every request of this dialog goes on, whatever the remote target says (RFC
   * 5626 section 5.3: a registrar reaches a UA over the connection it registered on; its Contact may
   * be a port that takes no new connection, or an address behind NAT). Unset: the remote target.
   */
  flow: Peer | undefined = undefined;
  readonly secure: boolean;
  /**
   * Whether we sent the request that created the dialog (and chose its Call-ID): the glare retry
   * timer of RFC 3261 section 14.1 depends on it.
   */
  readonly isUac: boolean;

  private constructor(init: {
    id: DialogId;
    state: DialogState;
    localSeq: number | undefined;
    remoteSeq: number | undefined;
    local: NameAddr;
    remote: NameAddr;
    remoteTarget: Uri;
    routeSet: string[];
    secure: boolean;
    isUac: boolean;
  }) {
    this.id = init.id;
    this._state = init.state;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.local = init.local;
    this.remote = init.remote;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.secure = init.secure;
    this.isUac = init.isUac;
  }

  get state(): DialogState {
    return this._state;
  }

  get key(): string {
    return dialogKey(this.id);
  }

  /** Moves along the diagram above; throws on anything else (a bug). */
  transition(to: DialogState): void {
    if (!TRANSITIONS[this._state].includes(to)) {
      throw new SipStateError('SIP_ILLEGAL_TRANSITION', `dialog ${this.key}: ${this._state} -> ${to}`);
    }
    this._state = to;
  }

  /**
   * The UAS side (section 12.1.1): route set from Record-Route in order, remote target from the
   * request's Contact, remote sequence number from its CSeq. `localTag` is the To tag of our
   * response; `state` is 'early' for a 1xx, 'confirmed' for a 2xx.
   */
  static fromRequest(
    req: SipRequest,
    localTag: string,
    state: DialogState = 'confirmed',
    isUac = false,
  ): Dialog {
    const contact = req.contact[0];
    if (!contact) throw new SipStateError('SIP_INVALID_ARGUMENT', 'dialog-creating request without Contact');
    const local = req.to.clone();
    local.tag = localTag;
    return new Dialog({
      id: { callId: req.callId, localTag, remoteTag: req.from.tag ?? '' },
      state,
      localSeq: undefined,
      remoteSeq: req.cseq.seq,
      local,
      remote: req.from.clone(),
      remoteTarget: contact.uri,
      routeSet: req.values('record-route'),
      secure: isSipUri(req.uri) && req.uri.scheme === 'sips',
      isUac,
    });
  }

  /**
   * The UAC side (section 12.1.2): route set from Record-Route in reverse, remote target from the
   * response's Contact, local sequence number from the request.
   */
  static fromResponse(req: SipRequest, res: SipResponse): Dialog {
    const contact = res.contact[0];
    if (!contact) throw new SipStateError('SIP_INVALID_ARGUMENT', 'dialog-creating response without Contact');
    const remoteTag = res.to.tag;
    if (remoteTag === undefined) throw new SipStateError('SIP_INVALID_ARGUMENT', 'response without To tag');
    return new Dialog({
      id: { callId: req.callId, localTag: req.from.tag ?? '', remoteTag },
      state: res.status < 200 ? 'early' : 'confirmed',
      localSeq: req.cseq.seq,
      remoteSeq: undefined,
      local: req.from.clone(),
      remote: res.to.clone(),
      remoteTarget: contact.uri,
      routeSet: res.values('record-route').reverse(),
      secure: isSipUri(req.uri) && req.uri.scheme === 'sips',
      isUac: true,
    });
  }

  /**
   * An early dialog confirmed by a 2xx (RFC 3261 section 13.2.2.4): the route set is recomputed
   * from the 2xx and its Contact becomes the remote target.
   */
  confirm(res: SipResponse): void {
    this.transition('confirmed');
    const contact = res.contact[0];
    if (contact) this.remoteTarget = contact.uri;
    const routes = this.isUac ? res.values('record-route').reverse() : this.routeSet.slice();
    this.routeSet.splice(0, this.routeSet.length, ...routes);
  }

  /**
   * A 2xx to a target refresh we sent (re-INVITE, UPDATE; section 12.2.1.2): its Contact is the
   * new remote target. The route set never changes after the dialog is established.
   */
  refreshTarget(res: SipResponse): void {
    const contact = res.contact[0];
    if (contact) this.remoteTarget = contact.uri;
  }

  /**
   * Checks an in-dialog request from the peer (section 12.2.2): a CSeq lower than the last one
   * is out of order (answer 500). Updates the remote sequence number and, for target refresh
   * requests, the remote target. Returns false when the request must be rejected with 500.
   */
  receiveRequest(req: SipRequest): boolean {
    const seq = req.cseq.seq;
    if (req.method !== 'ACK' && req.method !== 'CANCEL') {
      if (this.remoteSeq !== undefined && seq <= this.remoteSeq) return false;
      this.remoteSeq = seq;
    }
    if (isTargetRefresh(req.method)) {
      const c = req.contact[0];
      if (c) this.remoteTarget = c.uri;
    }
    return true;
  }

  /**
   * Builds a request inside the dialog (section 12.2.1.1). With a loose-routing first hop (`lr`)
   * the Request-URI is the remote target and Route is the route set; with a strict router the
   * first route becomes the Request-URI and the remote target is appended to Route.
   * ACK reuses the INVITE's CSeq number (pass `cseq`); other methods take the next number.
   */
  createRequest(
    method: string,
    opts: {
      cseq?: number;
      contact?: string;
      headers?: Array<[string, HeaderValue]>;
      body?: Buffer;
      contentType?: string;
    } = {},
  ): SipRequest {
    if (this._state === 'terminated' && method !== 'ACK') {
      throw new SipStateError('SIP_INVALID_ARGUMENT', `dialog ${this.key} is terminated`);
    }
    let seq: number;
    if (opts.cseq !== undefined) seq = opts.cseq;
    else {
      this.localSeq =
        this.localSeq === undefined ? Math.floor(Math.random() * 0x7fff) + 1 : this.localSeq + 1;
      seq = this.localSeq;
    }
    let requestUri = this.remoteTarget.toString();
    let routes = this.routeSet;
    const first = routes[0];
    if (first !== undefined) {
      const firstUri = parseNameAddr(first, 'Route').uri;
      if (isSipUri(firstUri) && firstUri.param('lr') === undefined) {
        requestUri = stripForRequestUri(firstUri);
        routes = [...routes.slice(1), `<${this.remoteTarget.toString()}>`];
      }
    }
    const pairs: Array<[string, HeaderValue]> = [
      ['Max-Forwards', 70],
      ['From', this.local.toString()],
      ['To', this.remote.toString()],
      ['Call-ID', this.id.callId],
      ['CSeq', `${seq} ${method}`],
    ];
    for (const r of routes) pairs.push(['Route', r]);
    if (opts.contact) pairs.push(['Contact', opts.contact]);
    for (const h of opts.headers ?? []) pairs.push(h);
    if (opts.body && opts.contentType) pairs.push(['Content-Type', opts.contentType]);
    return new SipRequest(method, requestUri, headerFields(pairs), opts.body);
  }

  /** The URI the next request goes to: the first route, else the remote target. */
  nextHop(): Uri {
    const first = this.routeSet[0];
    return first !== undefined ? parseNameAddr(first, 'Route').uri : this.remoteTarget;
  }
}

/**
 * Target refresh requests (RFC 3261 section 12.2; RFC 3311 section 5.1 for UPDATE; RFC 6665
 * section 4.1.2.2 and 4.2.1.2 for SUBSCRIBE and NOTIFY): their Contact replaces the remote target.
 */
export function isTargetRefresh(method: string): boolean {
  return method === 'INVITE' || method === 'UPDATE' || method === 'SUBSCRIBE' || method === 'NOTIFY';
}

/** A strict router's URI as Request-URI: no method or header components (section 12.2.1.1). */
function stripForRequestUri(u: Uri): string {
  if (!isSipUri(u)) return u.toString();
  const c = u.clone();
  c.headers = [];
  c.params = c.params.filter(([k]) => k.toLowerCase() !== 'method');
  return c.toString();
}
