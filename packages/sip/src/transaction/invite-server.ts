/**
 * The INVITE server transaction (RFC 3261 section 17.2.1, with the Accepted state of RFC 6026
 * section 7.1: after a 2xx the transaction lives on for Timer L to absorb INVITE retransmissions,
 * while the TU retransmits the 2xx until the ACK arrives, section 13.3.1.4).
 *
 * ```
 *                      |INVITE: pass to TU (100 Trying after 200 ms unless the TU answers)
 *    INVITE            V
 *    send last 1xx +-----------+  1xx from TU: send
 *         +--------| Proceeding|<------+
 *         +------->+-----------+-------+
 *   300-699 from TU |     | 2xx from TU: send
 *   send response   |     +---------------------->+-----------+  2xx from TU: send
 *                   V                             | Accepted  |  INVITE: absorb
 *   INVITE    +-----------+  Timer H: inform TU   +-----------+
 *   send resp |Completed  |-----------------+           | Timer L
 *   Timer G   +-----------+                 |           |
 *   resend         | ACK                    V           V
 *                  V                  +------------------+
 *            +-----------+  Timer I   |    Terminated    |
 *            | Confirmed |----------->+------------------+
 *            +-----------+
 * ```
 *
 * A stateless transaction (for a source that may be forged, as Kamailio's `sl` answers) sends no
 * automatic 100 Trying and goes from Proceeding straight to Terminated on a 300-699, without Timer
 * G retransmissions: a retransmitted INVITE is then a new request with one new answer.
 */
import type { SipRequest, SipResponse } from '../message.ts';
import { createResponse } from '../response.ts';
import type { Peer } from '../transport/transport.ts';
import { Transaction, type TransactionContext } from './transaction.ts';

export type InviteServerState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

export type InviteServerEvents = {
  /** A CANCEL matched this INVITE while it had no final response (section 9.2). */
  cancel: [cancel: SipRequest];
  /** The ACK for a non-2xx final response arrived, or an ACK in Accepted (RFC 6026). */
  ack: [ack: SipRequest];
  /** Timer H fired: the ACK for the final response never came (section 17.2.1). */
  timeout: [];
  transportError: [err: unknown];
  terminated: [];
};

/** Allowed moves, shared by every instance (a per-instance table would cost memory per transaction). */
const TRANSITIONS: Readonly<Record<InviteServerState, readonly InviteServerState[]>> = {
  proceeding: ['completed', 'accepted', 'terminated'],
  completed: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  accepted: ['terminated'],
  terminated: [],
};

export class InviteServerTransaction extends Transaction<InviteServerState, InviteServerEvents> {
  readonly kind = 'ist';
  protected readonly transitions = TRANSITIONS;
  /**
   * The last response sent, for retransmissions; kept as a one-byte string, a single cheap object
   * for the garbage collector, rather than a slice pinning a shared buffer.
   */
  private lastResponse: string | undefined;
  private timerG = 0;
  /** The final status sent, if any. */
  finalStatus: number | undefined;
  /**
   * The To tag of our responses (the UAS's dialog tag, from the first response that has one): a
   * CANCEL's 200 carries it too (RFC 3261 section 9.2), so a UAC that takes the tag from the last
   * response it saw still names the dialog.
   */
  toTag: string | undefined;
  /** @internal `branch|sent-by`, under which the layer matches CANCELs from any source port. */
  branchKey: string | undefined;
  /** Set by the layer: answer once, keep nothing after a 300-699 (see the class comment). */
  stateless = false;

  constructor(
    ctx: TransactionContext,
    key: string,
    request: SipRequest,
    peer: Peer,
    tryingDelayMs: number,
    maxProceedingMs: number,
  ) {
    super(ctx, key, request, peer, 'proceeding');
    // A TU that never sends a final response must not hold the transaction forever: like a
    // proxy's Timer C (section 16.6), give up with 408 after `maxProceedingMs`.
    this.startTimer('TU', maxProceedingMs, () => {
      if (this.state === 'proceeding') this.respond(createResponse(request, 408));
    });
    if (tryingDelayMs >= 0) {
      // Section 17.2.1: 100 Trying unless the TU answers within 200 ms.
      this.startTimer('trying', tryingDelayMs, () => {
        if (this.state === 'proceeding' && this.lastResponse === undefined)
          this.respond(createResponse(request, 100));
      });
    }
  }

  /**
   * Sends a response from the TU. Returns false (and sends nothing) when the state no longer
   * allows it, e.g. a 200 racing a CANCEL that already produced 487.
   */
  respond(res: SipResponse): boolean {
    const s = res.status;
    if (this.toTag === undefined && s > 100) this.toTag = toTagOf(res);
    const data = res.serialize();
    if (this.state === 'accepted') {
      if (s < 200 || s >= 300) return false;
      this.transmit(data);
      return true;
    }
    if (this.state !== 'proceeding') return false;
    this.stopTimer('trying');
    // 2xx retransmissions belong to the TU (section 13.3.1.4): only 1xx and 3xx-6xx are kept.
    this.lastResponse = s < 200 || s >= 300 ? data.toString('latin1') : undefined;
    this.transmit(data);
    if (this.state !== 'proceeding') return true; // transport error
    if (s < 200) return true;
    this.finalStatus = s;
    this.stopTimer('TU');
    this.ctx.finished?.(this as unknown as Transaction);
    const { T1 } = this.ctx.timers;
    if (s >= 300 && this.stateless) {
      this.transition('terminated');
      return true;
    }
    if (s < 300) {
      this.releaseRequest();
      this.transition('accepted');
      this.startTimer('L', 64 * T1, () => this.transition('terminated'));
      return true;
    }
    this.releaseRequest();
    this.transition('completed');
    if (!this.reliable) {
      this.timerG = T1;
      this.startTimer('G', T1, () => this.fireG());
    }
    this.startTimer('H', 64 * T1, () => {
      if (this.state !== 'completed') return;
      this.transition('terminated');
      this.emit('timeout');
    });
    return true;
  }

  private fireG(): void {
    if (this.state !== 'completed' || !this.lastResponse) return;
    this.transmit(Buffer.from(this.lastResponse, 'latin1'));
    this.timerG = Math.min(2 * this.timerG, this.ctx.timers.T2);
    this.startTimer('G', this.timerG, () => this.fireG());
  }

  /** A retransmitted INVITE or an ACK matched to this transaction by the layer. */
  receiveRequest(req: SipRequest): void {
    if (req.method === 'ACK') {
      if (this.state === 'completed') {
        this.stopTimer('G');
        this.stopTimer('H');
        this.transition('confirmed');
        this.emit('ack', req);
        this.startTimer('I', this.reliable ? 0 : this.ctx.timers.T4, () => this.transition('terminated'));
      } else if (this.state === 'accepted') this.emit('ack', req);
      return; // ACKs in Confirmed are absorbed
    }
    // INVITE retransmission
    if ((this.state === 'proceeding' || this.state === 'completed') && this.lastResponse) {
      this.transmit(Buffer.from(this.lastResponse, 'latin1'));
    }
  }

  /** Called by the layer when a CANCEL matches (section 9.2). */
  cancelled(cancel: SipRequest): void {
    if (this.state !== 'proceeding') return;
    this.emit('cancel', cancel);
    // The UAS SHOULD answer the INVITE with 487 (section 9.2) unless the TU already answered.
    if (this.state === 'proceeding') this.respond(createResponse(this.request, 487));
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

/**
 * The To tag a response gives the dialog (the CANCEL's 200 repeats it, section 9.2), or none when the
 * request's To could not be read: a response to a malformed request copies its To as it came.
 */
function toTagOf(res: SipResponse): string | undefined {
  try {
    return res.to.tag;
  } catch {
    return undefined;
  }
}
