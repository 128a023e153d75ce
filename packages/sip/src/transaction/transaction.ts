/**
 * What the four transaction state machines of RFC 3261 section 17 share: timer values, the
 * context the transaction layer gives them, transaction keys and the guarded state transition.
 */
import type { Clock, TimerHandle } from '../clock.ts';
import { SipStateError } from '../errors.ts';
import { detach, type SipMessage, type SipRequest } from '../message.ts';
import type { Peer } from '../transport/transport.ts';
import { MAGIC_COOKIE } from '../via.ts';
import { type EventMap, TypedEmitter } from '../typed-emitter.ts';

/** RFC 3261 section 17.1.1.1 and table 4. */
export interface TimerValues {
  /** RTT estimate, default 500 ms. */
  T1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s. */
  T2: number;
  /** Maximum duration a message remains in the network, default 5 s. */
  T4: number;
}

export const DEFAULT_TIMERS: TimerValues = { T1: 500, T2: 4000, T4: 5000 };

/** What a transaction needs from the layer that owns it. */
export interface TransactionContext {
  readonly clock: Clock;
  readonly timers: TimerValues;
  /** Sends bytes; a thrown error or rejected promise is a transport error (section 17.1.4). */
  send(data: Buffer, dest: Peer): Promise<void> | void;
  /** Called once when the transaction reaches Terminated. */
  terminated(tx: Transaction): void;
  /**
   * Called once when a server transaction sends its final response: from then on it only absorbs
   * retransmissions, so it no longer counts against live-transaction limits.
   */
  finished?(tx: Transaction): void;
}

/** Transport errors reported by the layer, e.g. an unreachable TCP peer. */
export class TransportError extends Error {
  readonly code = 'SIP_TRANSPORT_ERROR';
}

/**
 * Base of all transactions. Subclasses declare their transition table; {@link transition} throws
 * on a move the table does not allow, which would be a bug in the stack.
 */
export abstract class Transaction<
  S extends string = string,
  E extends EventMap = EventMap,
> extends TypedEmitter<E> {
  abstract readonly kind: 'ict' | 'nict' | 'ist' | 'nist';
  readonly key: string;
  private _request: SipRequest;
  readonly peer: Peer;
  protected readonly ctx: TransactionContext;
  protected readonly reliable: boolean;
  private _state: S;
  /** Running timers by name (a few at most per transaction). */
  private handles: Record<string, TimerHandle | undefined> | undefined;

  protected constructor(ctx: TransactionContext, key: string, request: SipRequest, peer: Peer, initial: S) {
    super();
    this.ctx = ctx;
    this.key = key;
    this._request = request;
    this.peer = peer;
    this.reliable = peer.protocol !== 'UDP';
    this._state = initial;
  }

  /**
   * The request that created the transaction. Once a server transaction has sent its final
   * response this is a skeleton (method, Request-URI, Call-ID, CSeq): see {@link SipRequest.skeleton}.
   */
  get request(): SipRequest {
    return this._request;
  }

  /** Keeps only a skeleton of the request from now on. */
  protected releaseRequest(): void {
    this._request = this._request.skeleton();
  }

  get state(): S {
    return this._state;
  }

  /** State test that TypeScript does not narrow away after a transition. */
  protected stateIs(s: S): boolean {
    return this._state === s;
  }

  protected abstract readonly transitions: Readonly<Record<S, readonly S[]>>;

  protected transition(to: S): void {
    const from = this._state;
    if (!this.transitions[from].includes(to)) {
      throw new SipStateError('SIP_ILLEGAL_TRANSITION', `${this.kind} ${this.key}: ${from} -> ${to}`);
    }
    this._state = to;
    if (to === 'terminated') {
      this.clearAllTimers();
      this.ctx.terminated(this as unknown as Transaction);
      this.onTerminated();
    }
  }

  protected onTerminated(): void {}

  protected startTimer(name: string, ms: number, fn: () => void): void {
    this.stopTimer(name);
    const handles = (this.handles ??= {});
    handles[name] = this.ctx.clock.setTimer(ms, () => {
      handles[name] = undefined;
      fn();
    });
  }

  protected stopTimer(name: string): void {
    const h = this.handles?.[name];
    if (h !== undefined) {
      this.ctx.clock.clearTimer(h);
      this.handles![name] = undefined;
    }
  }

  /** Names of running timers (for tests and diagnostics). */
  get runningTimers(): string[] {
    return this.handles ? Object.keys(this.handles).filter((k) => this.handles![k] !== undefined) : [];
  }

  private clearAllTimers(): void {
    const handles = this.handles;
    if (!handles) return;
    for (const k in handles) {
      const h = handles[k];
      if (h !== undefined) this.ctx.clock.clearTimer(h);
      handles[k] = undefined;
    }
  }

  /** Sends bytes to the peer; a failure terminates the transaction as a transport error. */
  protected transmit(data: Buffer): void {
    try {
      const p = this.ctx.send(data, this.peer);
      if (p) p.catch((e: unknown) => this.onTransportError(e));
    } catch (e) {
      this.onTransportError(e);
    }
  }

  protected abstract onTransportError(err: unknown): void;
}

/** Key of a client transaction (section 17.1.3): top Via branch and CSeq method. */
export function clientKey(branch: string, cseqMethod: string): string {
  return branch + '|' + (cseqMethod === 'ACK' ? 'INVITE' : cseqMethod);
}

/**
 * Key of a server transaction (section 17.2.3): branch, sent-by and method, with ACK mapped to
 * INVITE; for requests without the magic cookie (RFC 2543), a key built from Call-ID, CSeq
 * number, From tag and the top Via.
 *
 * Stricter than section 17.2.3 on purpose: the key also holds the transport source. A genuine
 * retransmission comes from where the request came from; a request that merely repeats another
 * peer's branch (a collision, or a spoof meant to have a response resent elsewhere) is new.
 */
export function serverKey(msg: SipMessage, method: string, source?: Peer): string {
  const via = msg.topVia;
  const m = method === 'ACK' ? 'INVITE' : method;
  const branch = via.branch;
  // Address and port for every transport: over a stream that is the connection, on which a client
  // sends its CANCEL and ACK (RFC 3261 section 18.1.1); two clients behind one address stay apart.
  const from = source ? `${source.protocol}:${source.address}:${source.port}|` : '';
  // Keys live as long as their transactions: make them flat copies, not trees of slices of the
  // received text (which would keep every request's text alive).
  if (branch !== undefined && branch.startsWith(MAGIC_COOKIE))
    return detach(from + branch + '|' + via.sentBy + '|' + m);
  return detach(
    from +
      '2543|' +
      msg.callId +
      '|' +
      msg.cseq.seq +
      '|' +
      (msg.from.tag ?? '') +
      '|' +
      via.toString() +
      '|' +
      m,
  );
}
