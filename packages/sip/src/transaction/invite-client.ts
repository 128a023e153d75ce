/**
 * The INVITE client transaction (RFC 3261 section 17.1.1, with the Accepted state of RFC 6026
 * section 7.2).
 *
 * ```
 *                 |INVITE from TU
 *   Timer A fires |INVITE sent        Timer B fires
 *   Reset A,      V                   or transport err.
 *   INVITE sent +-----------+         inform TU
 *     +---------|  Calling  |----------------------------+
 *     |         +-----------+ 2xx -> Accepted             |
 *     +-------->  |       |   300-699: ACK, -> Completed  |
 *            1xx  |       |                               |
 *                 V       |                               |
 *           +-----------+ |                               |
 *   1xx ----| Proceeding|-+ 2xx -> Accepted               |
 *           +-----------+   300-699 -> Completed          |
 *   +-----------+  Timer D      +----------+  Timer M     |
 *   | Completed |-------------->|Terminated|<-------------+-- Accepted
 *   +-----------+  (ACK resent  +----------+  (2xx to TU)
 *                   on 3xx-6xx)
 * ```
 */
import { headerFields, SipRequest, type SipResponse } from '../message.ts';
import type { Peer } from '../transport/transport.ts';
import { Transaction, TransportError, type TransactionContext } from './transaction.ts';

export type InviteClientState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

/** What the transaction user hears from a client transaction. */
export interface ClientTransactionUser {
  /** Every response the TU must see: provisional, final, and 2xx retransmissions (RFC 6026). */
  onResponse(res: SipResponse): void;
  /** Timer B or F fired without a final response: treat as 408 (section 8.1.3.1). */
  onTimeout?(): void;
  onTransportError?(err: Error): void;
  onTerminated?(): void;
}

/** Allowed moves, shared by every instance (a per-instance table would cost memory per transaction). */
const TRANSITIONS: Readonly<Record<InviteClientState, readonly InviteClientState[]>> = {
  calling: ['proceeding', 'completed', 'accepted', 'terminated'],
  proceeding: ['completed', 'accepted', 'terminated'],
  completed: ['terminated'],
  accepted: ['terminated'],
  terminated: [],
};

export class InviteClientTransaction extends Transaction<InviteClientState> {
  readonly kind = 'ict';
  protected readonly transitions = TRANSITIONS;
  private readonly tu: ClientTransactionUser;
  private readonly data: Buffer;
  private ack: Buffer | undefined;
  private timerA = 0;
  /** A CANCEL requested before any provisional response (section 9.1: wait for one). */
  pendingCancel: (() => void) | undefined;

  constructor(
    ctx: TransactionContext,
    key: string,
    request: SipRequest,
    peer: Peer,
    tu: ClientTransactionUser,
  ) {
    super(ctx, key, request, peer, 'calling');
    this.tu = tu;
    this.data = request.serialize();
  }

  /** Sends the INVITE and starts timers A (unreliable only) and B. */
  start(): void {
    const { T1 } = this.ctx.timers;
    this.transmit(this.data);
    if (this.state === 'terminated') return;
    if (!this.reliable) {
      this.timerA = T1;
      this.startTimer('A', T1, () => this.fireA());
    }
    this.startTimer('B', 64 * T1, () => {
      if (this.state !== 'calling') return;
      this.transition('terminated');
      this.tu.onTimeout?.();
    });
  }

  private fireA(): void {
    if (this.state !== 'calling') return;
    this.transmit(this.data);
    this.timerA *= 2;
    this.startTimer('A', this.timerA, () => this.fireA());
  }

  /** A response matched to this transaction by the layer. */
  receiveResponse(res: SipResponse): void {
    const s = res.status;
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        this.stopTimer('A');
        if (s < 200) {
          this.stopTimer('B');
          if (this.state === 'calling') this.transition('proceeding');
          this.tu.onResponse(res);
          const cancel = this.pendingCancel;
          this.pendingCancel = undefined;
          cancel?.();
        } else if (s < 300) {
          this.stopTimer('B');
          this.transition('accepted');
          this.startTimer('M', 64 * this.ctx.timers.T1, () => this.transition('terminated'));
          this.tu.onResponse(res);
        } else {
          this.stopTimer('B');
          this.transition('completed');
          this.ack = buildNon2xxAck(this.request, res).serialize();
          this.transmit(this.ack);
          this.tu.onResponse(res);
          if (this.stateIs('completed')) {
            this.startTimer('D', this.reliable ? 0 : 32000, () => this.transition('terminated'));
          }
        }
        break;
      case 'completed':
        // A retransmitted final response: the ACK was lost (section 17.1.1.2).
        if (s >= 300 && this.ack) this.transmit(this.ack);
        break;
      case 'accepted':
        if (s >= 200 && s < 300) this.tu.onResponse(res);
        break;
      case 'terminated':
        break;
    }
  }

  protected onTransportError(err: unknown): void {
    if (this.state === 'terminated') return;
    this.transition('terminated');
    this.tu.onTransportError?.(err instanceof Error ? err : new TransportError(String(err)));
  }

  protected override onTerminated(): void {
    this.tu.onTerminated?.();
  }
}

/**
 * The ACK for a non-2xx final response, built by the transaction (section 17.1.1.3): same
 * Request-URI, Call-ID, From, CSeq number and top Via as the INVITE, To from the response, and
 * the INVITE's Route headers.
 */
export function buildNon2xxAck(invite: SipRequest, res: SipResponse): SipRequest {
  const headers = headerFields([
    ['Via', invite.getAll('via')[0]!.split(',')[0]!.trim()],
    ['Max-Forwards', 70],
    ['From', invite.get('from')!],
    ['To', res.get('to')!],
    ['Call-ID', invite.get('call-id')!],
    ['CSeq', `${invite.cseq.seq} ACK`],
  ]);
  for (const r of invite.getAll('route')) headers.push(...headerFields([['Route', r]]));
  return new SipRequest('ACK', invite.uriText, headers);
}
