/**
 * The non-INVITE server transaction (RFC 3261 section 17.2.2).
 *
 * ```
 *                  |Request received: pass to TU
 *                  V
 *            +-----------+  Request: absorb
 *            |  Trying   |
 *            +-----------+
 *        1xx from TU |  | 200-699 from TU: send
 *                    V  +-----------------------+
 *            +-----------+  Request: resend 1xx |
 *  1xx: send |Proceeding |                      |
 *            +-----------+                      |
 *                    | 200-699 from TU: send    |
 *                    V                          V
 *            +-----------+  Request: resend final
 *            | Completed |
 *            +-----------+
 *                    | Timer J (64*T1 on UDP, 0 on reliable transports)
 *                    V
 *            +-----------+
 *            | Terminated|
 *            +-----------+
 * ```
 *
 * A stateless transaction (see InviteServerTransaction) ends at its final response instead of
 * entering Completed: a retransmitted request is then new and gets one new answer.
 */
import type { SipRequest, SipResponse } from '../message.ts';
import type { Peer } from '../transport/transport.ts';
import { Transaction, type TransactionContext } from './transaction.ts';

export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export type NonInviteServerEvents = {
  transportError: [err: unknown];
  terminated: [];
};

/** Allowed moves, shared by every instance (a per-instance table would cost memory per transaction). */
const TRANSITIONS: Readonly<Record<NonInviteServerState, readonly NonInviteServerState[]>> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

export class NonInviteServerTransaction extends Transaction<NonInviteServerState, NonInviteServerEvents> {
  readonly kind = 'nist';
  protected readonly transitions = TRANSITIONS;
  /**
   * The last response sent, for retransmissions; kept as a one-byte string, a single cheap object
   * for the garbage collector, rather than a slice pinning a shared buffer.
   */
  private lastResponse: string | undefined;
  finalStatus: number | undefined;
  /** Set by the layer: keep nothing after the final response. */
  stateless = false;

  constructor(ctx: TransactionContext, key: string, request: SipRequest, peer: Peer) {
    super(ctx, key, request, peer, 'trying');
    // A TU that never answers must not hold the transaction forever: after 64*T1 the client has
    // given up (its Timer F), so the transaction ends silently.
    this.startTimer('TU', 64 * ctx.timers.T1, () => {
      if (this.state === 'trying' || this.state === 'proceeding') this.transition('terminated');
    });
  }

  /** Sends a response from the TU; false when a final response was already sent. */
  respond(res: SipResponse): boolean {
    if (this.state !== 'trying' && this.state !== 'proceeding') return false;
    const data = res.serialize();
    this.lastResponse = data.toString('latin1');
    this.transmit(data);
    if (this.stateIs('terminated')) return true;
    if (res.status < 200) {
      if (this.state === 'trying') this.transition('proceeding');
      return true;
    }
    this.finalStatus = res.status;
    this.stopTimer('TU');
    this.ctx.finished?.(this as unknown as Transaction);
    if (this.stateless) {
      this.transition('terminated');
      return true;
    }
    this.releaseRequest();
    this.transition('completed');
    this.startTimer('J', this.reliable ? 0 : 64 * this.ctx.timers.T1, () => this.transition('terminated'));
    return true;
  }

  /** A retransmission of the request (section 17.2.2). */
  receiveRequest(_req: SipRequest): void {
    if ((this.state === 'proceeding' || this.state === 'completed') && this.lastResponse) {
      this.transmit(Buffer.from(this.lastResponse, 'latin1'));
    }
  }

  protected onTransportError(err: unknown): void {
    if (this.state === 'terminated') return;
    this.transition('terminated');
    this.emit('transportError', err);
  }

  protected override onTerminated(): void {
    this.emit('terminated');
  }
}
