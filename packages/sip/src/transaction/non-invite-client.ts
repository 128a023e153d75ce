/**
 * The non-INVITE client transaction (RFC 3261 section 17.1.2).
 *
 * ```
 *                        |Request from TU, send request
 *    Timer E             V
 *    send request  +-----------+  Timer F or transport err.: inform TU
 *        +---------|  Trying   |-------------+
 *        +-------->+-----------+             |
 *          200-699 |   | 1xx                 |
 *                  |   V                     |
 *    Timer E  +-----------+  Timer F         |
 *    send req |Proceeding |----------------->|
 *        +----+-----------+                  |
 *                  | 200-699                 |
 *                  V                         |
 *            +-----------+  Timer K    +------------+
 *            | Completed |------------>| Terminated |
 *            +-----------+             +------------+
 * ```
 */
import type { SipRequest, SipResponse } from '../message.ts';
import type { Peer } from '../transport/transport.ts';
import type { ClientTransactionUser } from './invite-client.ts';
import { Transaction, TransportError, type TransactionContext } from './transaction.ts';

export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** Allowed moves, shared by every instance (a per-instance table would cost memory per transaction). */
const TRANSITIONS: Readonly<Record<NonInviteClientState, readonly NonInviteClientState[]>> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

export class NonInviteClientTransaction extends Transaction<NonInviteClientState> {
  readonly kind = 'nict';
  protected readonly transitions = TRANSITIONS;
  private readonly tu: ClientTransactionUser;
  private readonly data: Buffer;
  private timerE = 0;

  constructor(
    ctx: TransactionContext,
    key: string,
    request: SipRequest,
    peer: Peer,
    tu: ClientTransactionUser,
  ) {
    super(ctx, key, request, peer, 'trying');
    this.tu = tu;
    this.data = request.serialize();
  }

  start(): void {
    const { T1 } = this.ctx.timers;
    this.transmit(this.data);
    if (this.state === 'terminated') return;
    if (!this.reliable) {
      this.timerE = T1;
      this.startTimer('E', T1, () => this.fireE());
    }
    this.startTimer('F', 64 * T1, () => {
      if (this.state !== 'trying' && this.state !== 'proceeding') return;
      this.transition('terminated');
      this.tu.onTimeout?.();
    });
  }

  private fireE(): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    this.transmit(this.data);
    const { T2 } = this.ctx.timers;
    this.timerE = this.state === 'trying' ? Math.min(2 * this.timerE, T2) : T2;
    this.startTimer('E', this.timerE, () => this.fireE());
  }

  receiveResponse(res: SipResponse): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return; // absorbed in Completed
    if (res.status < 200) {
      if (this.state === 'trying') this.transition('proceeding');
      this.tu.onResponse(res);
      return;
    }
    this.stopTimer('E');
    this.stopTimer('F');
    this.transition('completed');
    this.tu.onResponse(res);
    if (this.stateIs('completed')) {
      this.startTimer('K', this.reliable ? 0 : this.ctx.timers.T4, () => this.transition('terminated'));
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
