/**
 * The UAS core's 2xx retransmission (RFC 3261 section 13.3.1.4): the 2xx to an INVITE is sent
 * again at T1, 2*T1, ... capped at T2, until the ACK arrives; without an ACK after 64*T1 the
 * dialog is confirmed and then torn down with BYE by the application.
 */
import type { InviteServerTransaction } from './transaction/invite-server.ts';
import type { SipResponse } from './message.ts';
import type { Clock, TimerHandle } from './clock.ts';

export class AckWait {
  private timer: TimerHandle | undefined;
  private interval: number;
  private elapsed = 0;
  private done = false;

  /**
   * Sends `ok` in `tx` now and schedules retransmissions over unreliable transports.
   * `onNoAck` runs once when 64*T1 pass without {@link ackReceived}.
   */
  constructor(
    private readonly clock: Clock,
    private readonly tx: InviteServerTransaction,
    private readonly ok: SipResponse,
    private readonly timers: { T1: number; T2: number },
    private readonly onNoAck: () => void,
  ) {
    this.interval = timers.T1;
    tx.respond(ok);
    this.schedule(tx.peer.protocol === 'UDP');
  }

  private schedule(retransmit: boolean): void {
    const step = retransmit ? this.interval : 64 * this.timers.T1;
    this.timer = this.clock.setTimer(step, () => {
      this.elapsed += step;
      if (this.done) return;
      if (this.elapsed >= 64 * this.timers.T1) {
        this.done = true;
        this.onNoAck();
        return;
      }
      this.tx.respond(this.ok);
      this.interval = Math.min(2 * this.interval, this.timers.T2);
      this.schedule(retransmit);
    });
  }

  /** The ACK arrived: stop retransmitting. */
  ackReceived(): void {
    this.done = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
  }
}
