/**
 * The transaction layer (RFC 3261 section 17): matches received messages to transactions,
 * creates server transactions for new requests, handles CANCEL (section 9.2) and hands the rest
 * to the transaction user (the UA core or dialog layer): new requests, ACKs for 2xx (which belong
 * to the dialog, section 13.3.1.4) and stray responses such as retransmitted 2xx.
 *
 * It parses nothing itself beyond the headers that form transaction keys; messages reach it
 * already validated (see validate.ts).
 */
import { type Clock, systemClock } from '../clock.ts';
import { SipStateError } from '../errors.ts';
import { detach, headerFields, type HeaderValue, SipRequest, type SipResponse } from '../message.ts';
import { createResponse } from '../response.ts';
import { responseDestination } from '../transport/response-route.ts';
import type { Peer } from '../transport/transport.ts';
import { MAGIC_COOKIE } from '../via.ts';
import { type ClientTransactionUser, InviteClientTransaction } from './invite-client.ts';
import { InviteServerTransaction } from './invite-server.ts';
import { NonInviteClientTransaction } from './non-invite-client.ts';
import { NonInviteServerTransaction } from './non-invite-server.ts';
import {
  clientKey,
  DEFAULT_TIMERS,
  serverKey,
  type TimerValues,
  type Transaction,
  type TransactionContext,
} from './transaction.ts';

export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;
export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;

/** The transaction user: what the layer passes upward. */
export interface TransactionUser {
  /** A new request (never ACK, never a CANCEL, which the layer answers itself). */
  onRequest(tx: ServerTransaction): void;
  /** An ACK that matched no transaction in Completed: the ACK for a 2xx (section 17.2.3). */
  onAck(ack: SipRequest, source: Peer): void;
  /** A response that matched no client transaction, e.g. a 2xx retransmitted after Timer M. */
  onStrayResponse?(res: SipResponse, source: Peer): void;
}

export interface TransactionLayerOptions {
  clock?: Clock;
  timers?: Partial<TimerValues>;
  /** Sends bytes to a peer; rejections are transport errors of the sending transaction. */
  send(data: Buffer, dest: Peer): Promise<void> | void;
  user: TransactionUser;
  /** Delay before an automatic 100 Trying for INVITE (default 200 ms; negative: never). */
  tryingDelayMs?: number;
  /** Longest an INVITE may wait for the TU's final response before 408 (default 180 s). */
  maxInviteProceedingMs?: number;
}

export class TransactionLayer {
  readonly clock: Clock;
  readonly timers: TimerValues;
  private readonly server = new Map<string, ServerTransaction>();
  private readonly client = new Map<string, ClientTransaction>();
  /** Server transactions without a final response yet, by source address (the live ones). */
  private readonly perSource = new Map<string, number>();
  private readonly inProgress = new Set<ServerTransaction>();
  /**
   * INVITE server transactions by branch and sent-by alone (section 17.2.3, without the transport
   * source our keys add): a CANCEL is matched through it whatever source port a NAT gave it.
   */
  private readonly invitesByBranch = new Map<string, InviteServerTransaction>();
  private readonly ctx: TransactionContext;
  private readonly user: TransactionUser;
  private readonly tryingDelayMs: number;
  private readonly maxInviteProceedingMs: number;

  constructor(opts: TransactionLayerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.timers = { ...DEFAULT_TIMERS, ...opts.timers };
    this.user = opts.user;
    this.tryingDelayMs = opts.tryingDelayMs ?? 200;
    this.maxInviteProceedingMs = opts.maxInviteProceedingMs ?? 180_000;
    this.ctx = {
      clock: this.clock,
      timers: this.timers,
      send: opts.send,
      terminated: (tx) => this.forget(tx),
      finished: (tx) => this.settled(tx as ServerTransaction),
    };
  }

  /** Server transactions held, including completed ones absorbing retransmissions. */
  get serverCount(): number {
    return this.server.size;
  }

  /**
   * Server transactions in progress (no final response yet). Limits count these: a completed
   * transaction only absorbs retransmissions for Timer J or L (32 s on UDP), and counting it would
   * refuse a peer making a few calls a second.
   */
  get inProgressCount(): number {
    return this.inProgress.size;
  }

  /** Live client transactions. */
  get clientCount(): number {
    return this.client.size;
  }

  /** Server transactions in progress created by requests from `address`. */
  serverCountFor(address: string): number {
    return this.perSource.get(address) ?? 0;
  }

  findServer(key: string): ServerTransaction | undefined {
    return this.server.get(key);
  }

  findClient(key: string): ClientTransaction | undefined {
    return this.client.get(key);
  }

  /**
   * Whether a request would be absorbed by or matched to an existing transaction, so that
   * admission limits apply to new transactions only.
   */
  matchesExisting(req: SipRequest, source: Peer): boolean {
    return this.server.has(serverKey(req, req.method, source));
  }

  /**
   * Processes a validated request from the transport (section 17.2.3). `stateless`: a new
   * transaction answers once and keeps nothing afterwards (for sources that may be forged).
   * The server transaction answers towards {@link responseDestination} (section 18.2.2), keyed
   * by the real source.
   */
  receiveRequest(req: SipRequest, source: Peer, stateless = false): void {
    const method = req.method;
    const key = serverKey(req, method, source);
    const existing = this.server.get(key);
    if (existing) {
      existing.receiveRequest(req);
      return;
    }
    if (method === 'ACK') {
      this.user.onAck(req, source);
      return;
    }
    if (method === 'CANCEL') {
      // Section 9.2: the CANCEL matches its INVITE by the section 17.2.3 rules (branch, sent-by),
      // even from another source port (a NAT binding that changed). Matched, it gets 200 whatever
      // the INVITE's state; it cancels only an INVITE still without a final response.
      const cancel = new NonInviteServerTransaction(this.ctx, key, req, responseDestination(req, source));
      cancel.stateless = stateless;
      const tx = this.track(cancel, source);
      const exact = this.server.get(serverKey(req, 'INVITE', source));
      const bk = branchKey(req);
      const byBranch = bk === undefined ? undefined : this.invitesByBranch.get(bk);
      const invite = exact instanceof InviteServerTransaction ? exact : byBranch;
      if (invite) {
        // Section 9.2: the CANCEL's 200 SHOULD carry the To tag of the INVITE's responses.
        tx.respond(createResponse(req, 200, { toTag: invite.toTag }));
        if (invite.state === 'proceeding') invite.cancelled(req);
      } else {
        tx.respond(createResponse(req, 481));
      }
      return;
    }
    const dest = responseDestination(req, source);
    const tx =
      method === 'INVITE'
        ? new InviteServerTransaction(
            this.ctx,
            key,
            req,
            dest,
            stateless ? -1 : this.tryingDelayMs,
            this.maxInviteProceedingMs,
          )
        : new NonInviteServerTransaction(this.ctx, key, req, dest);
    tx.stateless = stateless;
    this.track(tx, source);
    this.user.onRequest(tx);
  }

  private track<T extends ServerTransaction>(tx: T, source: Peer): T {
    this.server.set(tx.key, tx);
    if (tx instanceof InviteServerTransaction) {
      const b = branchKey(tx.request);
      if (b) {
        tx.branchKey = b;
        this.invitesByBranch.set(b, tx);
      }
    }
    this.inProgress.add(tx);
    this.perSource.set(source.address, (this.perSource.get(source.address) ?? 0) + 1);
    return tx;
  }

  /** A server transaction sent its final response or ended: it is no longer in progress. */
  private settled(tx: ServerTransaction): void {
    if (!this.inProgress.delete(tx)) return;
    const a = tx.peer.address;
    const n = (this.perSource.get(a) ?? 1) - 1;
    if (n <= 0) this.perSource.delete(a);
    else this.perSource.set(a, n);
  }

  /** Processes a validated response from the transport (section 17.1.3). */
  receiveResponse(res: SipResponse, source: Peer): void {
    const branch = res.topVia.branch;
    const tx = branch === undefined ? undefined : this.client.get(clientKey(branch, res.cseq.method));
    if (tx) tx.receiveResponse(res);
    else this.user.onStrayResponse?.(res, source);
  }

  /**
   * Starts a client transaction for `req` towards `dest`. The request must carry its top Via with
   * an RFC 3261 branch; the layer never resolves names, `dest` is an address.
   */
  sendRequest(req: SipRequest, dest: Peer, tu: ClientTransactionUser): ClientTransaction {
    if (req.method === 'ACK')
      throw new SipStateError('SIP_INVALID_ARGUMENT', 'ACK is sent without a transaction');
    const branch = req.topVia.branch;
    if (branch === undefined || !branch.startsWith(MAGIC_COOKIE)) {
      throw new SipStateError('SIP_INVALID_ARGUMENT', 'request needs a Via branch with the magic cookie');
    }
    const key = clientKey(branch, req.method);
    if (this.client.has(key)) throw new SipStateError('SIP_INVALID_ARGUMENT', `duplicate branch ${branch}`);
    const tx =
      req.method === 'INVITE'
        ? new InviteClientTransaction(this.ctx, key, req, dest, tu)
        : new NonInviteClientTransaction(this.ctx, key, req, dest, tu);
    this.client.set(key, tx);
    tx.start();
    return tx;
  }

  /**
   * Cancels a pending INVITE (section 9.1): builds the CANCEL from the INVITE and sends it in its
   * own transaction once a provisional response has arrived. Returns false when it is too late.
   */
  cancel(
    invite: InviteClientTransaction,
    tu: ClientTransactionUser = { onResponse() {} },
    extra: Array<[string, HeaderValue]> = [],
  ): boolean {
    if (invite.state !== 'calling' && invite.state !== 'proceeding') return false;
    const send = (): void => {
      if (invite.state !== 'proceeding') return;
      this.sendRequest(buildCancel(invite.request, extra), invite.peer, tu);
    };
    if (invite.state === 'proceeding') send();
    else invite.pendingCancel = send;
    return true;
  }

  private forget(tx: Transaction): void {
    if (tx.kind === 'ist' || tx.kind === 'nist') {
      if (this.server.get(tx.key) === tx) {
        this.server.delete(tx.key);
        if (tx.kind === 'ist') {
          for (const [b, t] of this.invitesByBranchOf(tx)) if (t === tx) this.invitesByBranch.delete(b);
        }
        this.settled(tx as ServerTransaction);
      }
    } else if (this.client.get(tx.key) === tx) this.client.delete(tx.key);
  }

  private *invitesByBranchOf(tx: Transaction): Iterable<[string, InviteServerTransaction]> {
    const b = (tx as InviteServerTransaction).branchKey;
    const t = b === undefined ? undefined : this.invitesByBranch.get(b);
    if (b !== undefined && t) yield [b, t];
  }

  /** Drops every transaction without sending anything (shutdown). */
  close(): void {
    for (const tx of [...this.server.values(), ...this.client.values()]) {
      if (tx.state !== 'terminated')
        (tx as unknown as { transition(s: string): void }).transition('terminated');
    }
    this.server.clear();
    this.invitesByBranch.clear();
    this.client.clear();
    this.perSource.clear();
    this.inProgress.clear();
  }
}

/**
 * `branch|sent-by` of a request's top Via when the branch has the RFC 3261 magic cookie (else
 * undefined: RFC 2543 requests are matched only with their source).
 */
function branchKey(req: SipRequest): string | undefined {
  const via = req.topVia;
  const b = via.branch;
  return b !== undefined && b.startsWith(MAGIC_COOKIE) ? detach(b + '|' + via.sentBy) : undefined;
}

/**
 * CANCEL for an INVITE (section 9.1): same Request-URI, Call-ID, From, To, CSeq number, top Via, Route;
 * `extra` adds headers such as Reason (RFC 3326: a forking UA tells the losers the call was completed
 * elsewhere, so they log no missed call).
 */
export function buildCancel(invite: SipRequest, extra: Array<[string, HeaderValue]> = []): SipRequest {
  const headers = headerFields([
    ['Via', invite.getAll('via')[0]!.split(',')[0]!.trim()],
    ['Max-Forwards', 70],
    ['From', invite.get('from')!],
    ['To', invite.get('to')!],
    ['Call-ID', invite.get('call-id')!],
    ['CSeq', `${invite.cseq.seq} CANCEL`],
  ]);
  for (const r of invite.getAll('route')) headers.push(...headerFields([['Route', r]]));
  if (extra.length > 0) headers.push(...headerFields(extra));
  return new SipRequest('CANCEL', invite.uriText, headers);
}
