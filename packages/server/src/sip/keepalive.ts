/**
 * OPTIONS keep-alive of registered contacts (issue 16 item 5, "a phone that vanishes"): every
 * `intervalMs` each binding is sent an OPTIONS (RFC 3261 section 11) along its flow. Any answer, even
 * 405 or 481, means the phone is there; no answer within `timeoutMs`, or a flow that cannot be used
 * (the connection gone and nothing listening at the address), means it vanished: the binding is
 * removed, so it stops being rung and the user's presence loses that device.
 *
 * The probe also keeps a NAT pinhole (UDP) or a connection (TCP, TLS, WebSocket: the listener closes
 * idle ones) open from our side; phones keep theirs open with CRLF pings (RFC 5626 section 4.4.1),
 * which the transports answer. One probe per binding is in flight at a time, and the probes are
 * spread over the interval (a tenth of the bindings, by a hash of their id, every tenth of it), so
 * ten thousand phones are not sent ten thousand OPTIONS in one burst.
 */
import type { Clock, TimerHandle, UserAgentCore } from '@parley/sip';
import { SipRequestFailed, systemClock } from '@parley/sip';
import type { Binding, RegistrationTable } from './registrations.ts';

export interface KeepAliveOptions {
  ua: Pick<UserAgentCore, 'request' | 'endpoint'>;
  table: RegistrationTable;
  /** Removes a binding found unreachable (the registrar, so the row goes too). */
  drop(binding: Binding): Promise<unknown>;
  /** Between probes of one binding, ms; 0 turns keep-alive off. */
  intervalMs: number;
  /** How long a probe waits for an answer, ms. */
  timeoutMs: number;
  clock?: Clock;
  /** A probe failed for a reason other than the phone (logged). */
  onError?(err: unknown): void;
}

/** Parts the interval is cut into; each part probes the bindings whose id hashes to it. */
const SLICES = 10;

export class KeepAlive {
  private readonly inFlight = new Set<string>();
  private slice = 0;
  private readonly clock: Clock;
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly opts: KeepAliveOptions) {
    this.clock = opts.clock ?? systemClock;
    if (opts.intervalMs > 0) this.schedule();
  }

  /** Probes every binding now (tests may call it). */
  tick(): void {
    for (const b of this.opts.table.all()) void this.probe(b);
  }

  /** Probes the bindings of the next slice of the interval. */
  private tickSlice(): void {
    const slice = this.slice;
    this.slice = (slice + 1) % SLICES;
    for (const b of this.opts.table.all()) if (sliceOf(b.bindingId) === slice) void this.probe(b);
  }

  /** Sends one OPTIONS; resolves true when the contact answered. */
  async probe(b: Binding): Promise<boolean> {
    if (this.inFlight.has(b.bindingId) || this.closed) return true;
    this.inFlight.add(b.bindingId);
    let timer: TimerHandle | undefined;
    try {
      const answer = this.opts.ua
        .request({
          method: 'OPTIONS',
          target: b.contact,
          from: `sip:parley@${this.opts.ua.endpoint.advertisedAddress}`,
          to: b.aor,
          dest: { ...b.flow },
        })
        .then(
          () => true,
          (err: unknown) => {
            // A response of any status is an answer; a timeout or a transport error is none.
            if (err instanceof SipRequestFailed) return err.response !== undefined;
            this.opts.onError?.(err);
            return false;
          },
        );
      const deadline = new Promise<boolean>((resolve) => {
        timer = this.clock.setTimer(this.opts.timeoutMs, () => resolve(false));
      });
      const alive = await Promise.race([answer, deadline]);
      if (!alive && !this.closed && this.opts.table.get(b.bindingId) === b) await this.opts.drop(b);
      return alive;
    } catch (err) {
      this.opts.onError?.(err);
      return true;
    } finally {
      if (timer) this.clock.clearTimer(timer);
      this.inFlight.delete(b.bindingId);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) this.clock.clearTimer(this.timer);
  }

  private schedule(): void {
    this.timer = this.clock.setTimer(this.opts.intervalMs / SLICES, () => {
      if (this.closed) return;
      this.tickSlice();
      this.schedule();
    });
  }
}

function sliceOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) | 0;
  return Math.abs(h) % SLICES;
}
