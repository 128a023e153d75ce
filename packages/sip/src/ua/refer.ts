/**
 * REFER (RFC 3515): asking the peer to send a request (usually an INVITE) to a third party, with
 * an implicit subscription to event `refer` whose NOTIFYs carry the outcome as a `message/sipfrag`
 * status line (RFC 3420): `SIP/2.0 100 Trying`, then the final status. The NOTIFYs' Event carries
 * `id=<CSeq of the REFER>` (section 2.4.6) so several REFERs in one dialog stay apart.
 *
 * Sender side ({@link ReferSender}): REFER, 202, NOTIFYs -> `progress` events, ended by the
 * final status (or `terminated` Subscription-State).
 * Receiver side ({@link IncomingRefer}): `accept()` answers 202 and NOTIFYs 100 Trying; the
 * application reports `progress(status)` as its INVITE advances; a final status ends the
 * subscription (`terminated;reason=noresource`, section 2.4.7).
 * A Refer-To with a Replaces URI header (attended transfer, RFC 3891 section 5) is parsed into
 * `replaces`.
 */
import { type NameAddr, parseNameAddr } from '../address.ts';
import type { DigestCredentials } from '../digest.ts';
import { Dialog } from '../dialog.ts';
import { newTag } from '../ids.ts';
import type { HeaderValue, SipRequest, SipResponse } from '../message.ts';
import { reasonPhrase } from '../reasons.ts';
import { createResponse } from '../response.ts';
import type { ServerTransaction } from '../transaction/transaction-layer.ts';
import type { Peer } from '../transport/transport.ts';
import { TypedEmitter } from '../typed-emitter.ts';
import { SipRequestFailed } from '../uac.ts';
import type { DialogEntry } from './dialog-table.ts';
import type { InviteSession } from './invite-session.ts';
import { formatReplaces, type Replaces, replacesInReferTo } from './replaces.ts';
import { sendNonInvite } from './request-sender.ts';
import { Notifier, parseSubscriptionState, type SubscriptionUsage } from './subscription.ts';
import type { UserAgentCore } from './user-agent.ts';

/** The status line of a `message/sipfrag` body (RFC 3420), e.g. `SIP/2.0 180 Ringing`. */
export function parseSipfrag(body: Buffer | string): { status: number; reason: string } | undefined {
  const line = body.toString().split(/\r?\n/, 1)[0] ?? '';
  const m = /^SIP\/2\.0\s+(\d{3})\s*(.*)$/i.exec(line.trim());
  return m ? { status: Number(m[1]), reason: m[2] ?? '' } : undefined;
}

export function sipfrag(status: number, reason = reasonPhrase(status)): Buffer {
  return Buffer.from(`SIP/2.0 ${status} ${reason}\r\n`);
}

export interface ReferOptions {
  /** The URI the peer should call, e.g. `sip:carol@192.0.2.7`. */
  referTo: string;
  /** Attended transfer: the dialog the peer's INVITE replaces (RFC 3891 section 5). */
  replaces?: Replaces;
  headers?: Array<[string, HeaderValue]>;
}

/** The Refer-To value, with Replaces escaped into the URI's headers. */
export function referToValue(o: ReferOptions): string {
  if (!o.replaces) return `<${o.referTo}>`;
  const esc = encodeURIComponent(formatReplaces(o.replaces));
  return `<${o.referTo}${o.referTo.includes('?') ? '&' : '?'}Replaces=${esc}>`;
}

export type ReferSenderEvents = {
  /** A NOTIFY's sipfrag status (100, 180, 200 ...). */
  progress: [status: number, reason: string];
  /** The implicit subscription ended; `status` is the last sipfrag status seen. */
  terminated: [status: number | undefined];
};

/** A REFER we sent and the NOTIFYs that report on it. */
export class ReferSender extends TypedEmitter<ReferSenderEvents> implements SubscriptionUsage {
  /** Resolves with the REFER's final response (202 when accepted). */
  readonly accepted: Promise<SipResponse>;
  /** The last status reported. */
  lastStatus: number | undefined;
  private key: string | undefined;
  private ended = false;

  constructor(
    private readonly ua: UserAgentCore,
    private readonly entry: DialogEntry<InviteSession, SubscriptionUsage>,
    peer: Peer,
    o: ReferOptions,
    credentials?: DigestCredentials,
  ) {
    super();
    this.onListenerError = (e) => ua.endpoint.onListenerError(e);
    this.accepted = sendNonInvite(
      ua.endpoint,
      (auth) => {
        const req = entry.dialog.createRequest('REFER', {
          contact: ua.contact(peer.protocol),
          headers: [['Refer-To', referToValue(o)], ...(o.headers ?? []), ...auth],
        });
        // Registered before sending: a NOTIFY may arrive before the 202 (section 2.4.4).
        this.listen(`refer;id=${req.cseq.seq}`);
        return req;
      },
      ua.nextHop(entry.dialog, peer),
      credentials,
    ).then(({ response }) => {
      if (response.status >= 300) this.end();
      return response;
    });
    this.accepted.catch(() => this.end());
  }

  private listen(key: string): void {
    if (this.key) this.entry.subscriptions.delete(this.key);
    this.key = key;
    this.entry.subscriptions.set(key, this);
  }

  /** @internal */
  receiveRequest(tx: ServerTransaction): void {
    const req = tx.request;
    if (req.method !== 'NOTIFY') {
      tx.respond(createResponse(req, 489));
      return;
    }
    tx.respond(createResponse(req, 200));
    const frag = req.body.length > 0 ? parseSipfrag(req.body) : undefined;
    if (frag) {
      this.lastStatus = frag.status;
      this.emit('progress', frag.status, frag.reason);
    }
    const st = parseSubscriptionState(req.get('subscription-state'));
    if (st?.state === 'terminated' || (frag && frag.status >= 200)) this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.key && this.entry.subscriptions.get(this.key) === this)
      this.entry.subscriptions.delete(this.key);
    if (this.entry.dialog.state !== 'terminated') this.ua.table.release(this.entry);
    this.emit('terminated', this.lastStatus);
  }

  /** @internal */
  dialogTerminated(): void {
    this.end();
  }
}

/** A REFER received, until accepted or rejected (RFC 3515 section 2.4.2). */
export class IncomingRefer {
  readonly request: SipRequest;
  /** Refer-To, parsed (undefined: malformed, answer 400). */
  readonly referTo: NameAddr | undefined;
  /** The Replaces the Refer-To URI carries (attended transfer), if any. */
  readonly replaces: Replaces | undefined;

  constructor(
    private readonly ua: UserAgentCore,
    readonly tx: ServerTransaction,
    private readonly entry: DialogEntry<InviteSession, SubscriptionUsage> | undefined,
  ) {
    this.request = tx.request;
    const rt = tx.request.get('refer-to');
    let parsed: NameAddr | undefined;
    try {
      parsed = rt === undefined ? undefined : parseNameAddr(rt, 'Refer-To');
    } catch {
      parsed = undefined;
    }
    this.referTo = parsed;
    this.replaces = parsed ? replacesInReferTo(parsed) : undefined;
  }

  /** Answers 202 (section 2.4.2) and NOTIFYs `100 Trying`; report progress on the result. */
  accept(o: { expires?: number } = {}): ReferNotifier {
    const entry = this.entry ?? this.ua.table.add(Dialog.fromRequest(this.request, newTag()));
    const event = `refer;id=${this.request.cseq.seq}`;
    const n = new Notifier(this.ua, entry, this.tx.peer, event, o.expires ?? 180);
    entry.subscriptions.set(event, n);
    this.tx.respond(
      createResponse(this.request, 202, {
        toTag: entry.dialog.id.localTag,
        headers: [['Contact', this.ua.contact(this.tx.peer.protocol)]],
      }),
    );
    const r = new ReferNotifier(n);
    void r.progress(100);
    return r;
  }

  /** Refuses the REFER (default 603 Decline; 400 for a bad Refer-To). */
  reject(status = 603): void {
    this.tx.respond(createResponse(this.request, status));
  }
}

/** Reports a referred request's progress to the referrer as sipfrag NOTIFYs. */
export class ReferNotifier {
  constructor(readonly notifier: Notifier) {}

  /** A NOTIFY with `SIP/2.0 <status>`; a final status ends the subscription (section 2.4.7). */
  async progress(status: number, reason?: string): Promise<SipResponse | undefined> {
    const body = sipfrag(status, reason);
    const contentType = 'message/sipfrag;version=2.0';
    try {
      if (status >= 200) return await this.notifier.terminate('noresource', { body, contentType });
      return await this.notifier.notify({ state: 'active', body, contentType });
    } catch (e) {
      if (e instanceof SipRequestFailed) return undefined;
      throw e;
    }
  }
}
