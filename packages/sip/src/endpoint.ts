/**
 * A SIP endpoint: transports, the receive pipeline and the transaction layer composed into the
 * element a user agent (UAS, UAC, registrar, B2BUA) is built on.
 *
 * Receive pipeline for every message (RFC 3261 sections 18.2.1, 17 and 8.2):
 * 0. pre-parse admission (`admission`, from source address, port, transport and size only): a
 *    dropped datagram is never parsed;
 * 1. per-source rate limit (drop when exceeded);
 * 2. parse (done by the transport): unparseable requests get the parser's status (400, 505, ...)
 *    when a response can be formed, everything else unparseable is dropped;
 * 3. validation of the core headers (validate.ts): 400 statelessly;
 * 4. `received`/`rport` stamped on the top Via (RFC 3581);
 * 5. limits on server transactions in progress, per source and in all, and with `peers` the
 *    source class's request rate (503 with Retry-After);
 * 6. the transaction layer, which passes new requests, 2xx ACKs and stray responses up; with
 *    `peers`, requests from a class whose rule says so are answered statelessly.
 * Responses go where RFC 3261 section 18.2.2 says (see response-route.ts): back on the connection,
 * or to the source address at the rport or sent-by port.
 */
import { type Clock, systemClock } from './clock.ts';
import { SipStateError } from './errors.ts';
import { newBranch } from './ids.ts';
import type { SipMessage, SipRequest, SipResponse } from './message.ts';
import type { ParseLimits, SipMessageError } from './parser.ts';
import type { PeerRules } from './peer-policy.ts';
import { SourceRateLimiter } from './rate-limiter.ts';
import { createErrorResponse, createResponse } from './response.ts';
import type { ClientTransactionUser } from './transaction/invite-client.ts';
import {
  type ClientTransaction,
  type ServerTransaction,
  TransactionLayer,
} from './transaction/transaction-layer.ts';
import type { TimerValues } from './transaction/transaction.ts';
import { TcpTransport, type TcpTransportOptions } from './transport/tcp.ts';
import type {
  AdmissionCheck,
  Peer,
  Transport,
  TransportProtocol,
  TransportReceiver,
} from './transport/transport.ts';
import { UdpTransport } from './transport/udp.ts';
import { TlsTransport, type TlsTransportOptions } from './transport/tls.ts';
import { WsTransport, type WsTransportOptions } from './transport/ws.ts';
import { mustLeaveUdp, responseDestination } from './transport/response-route.ts';
import { parseVia } from './via.ts';
import { checkRequest, checkResponse } from './validate.ts';
import { TypedEmitter } from './typed-emitter.ts';

/** The application above the endpoint (the transaction user). */
export interface EndpointUser {
  /** A new request in its server transaction; answer with `tx.respond(createResponse(...))`. */
  onRequest(tx: ServerTransaction): void;
  /** An ACK for a 2xx (it belongs to the dialog, RFC 3261 section 13.3.1.4). */
  onAck?(ack: SipRequest, source: Peer): void;
  /** A response matching no client transaction, e.g. a retransmitted 2xx (section 13.2.2.4). */
  onStrayResponse?(res: SipResponse, source: Peer): void;
}

export interface EndpointLimits {
  /** Messages per second per source address (token bucket rate). Unlimited when absent. */
  messagesPerSecondPerSource?: number;
  /** Burst allowance for the rate above. Default: 2 x the rate. */
  messageBurstPerSource?: number;
  /** Server transactions in progress per source address; beyond it new requests get 503. */
  serverTransactionsPerSource?: number;
  /** Server transactions in progress in all; beyond it new requests get 503. Default 200,000. */
  serverTransactions?: number;
  /**
   * Server transactions held in all, completed ones absorbing retransmissions included (a memory
   * bound: they do not count against the limits above); beyond it new requests get 503. Default
   * 1,000,000.
   */
  serverTransactionsHeld?: number;
  /** Parser limits. */
  parse?: ParseLimits;
}

export interface EndpointOptions {
  /** The address written into Via (and by applications into Contact and SDP). Never learned. */
  advertisedAddress: string;
  user: EndpointUser;
  clock?: Clock;
  timers?: Partial<TimerValues>;
  /** Delay before an automatic 100 Trying (default 200 ms; negative: never). */
  tryingDelayMs?: number;
  limits?: EndpointLimits;
  /** Pre-parse admission for every transport's traffic (see {@link AdmissionCheck}). */
  admission?: AdmissionCheck;
  /**
   * Peer classes (see peer-policy.ts): their `admit` is the pre-parse admission unless `admission`
   * is given, and their rules set per-source transaction limits, rates and stateless answers.
   */
  peers?: PeerRules;
}

export type EndpointEvents = {
  /** A message was dropped or rejected before reaching a transaction, with the reason. */
  rejected: [reason: string, source: Peer, status: number | undefined];
  /** A failure that is not the peer's fault (socket errors, bugs in listeners). */
  error: [err: unknown];
};

/** Counters for metrics and tests. */
export interface EndpointStats {
  received: number;
  /** Datagrams (or stream chunks and connections) refused by `admission` before parsing. */
  notAdmitted: number;
  parseErrors: number;
  invalid: number;
  rateLimited: number;
  overloaded: number;
}

export class SipEndpoint extends TypedEmitter<EndpointEvents> implements TransportReceiver {
  readonly layer: TransactionLayer;
  readonly advertisedAddress: string;
  readonly stats: EndpointStats = {
    received: 0,
    notAdmitted: 0,
    parseErrors: 0,
    invalid: 0,
    rateLimited: 0,
    overloaded: 0,
  };
  private readonly transports = new Map<TransportProtocol, Transport>();
  private readonly user: EndpointUser;
  private readonly limiter: SourceRateLimiter | undefined;
  private readonly maxTxPerSource: number;
  private readonly maxTx: number;
  private readonly maxHeld: number;
  private readonly parseLimits: ParseLimits | undefined;
  private readonly admission: AdmissionCheck | undefined;
  private readonly peers: PeerRules | undefined;
  private closed = false;

  constructor(opts: EndpointOptions) {
    super();
    this.advertisedAddress = opts.advertisedAddress;
    this.user = opts.user;
    const clock = opts.clock ?? systemClock;
    const lim = opts.limits ?? {};
    this.limiter =
      lim.messagesPerSecondPerSource !== undefined
        ? new SourceRateLimiter(
            clock,
            lim.messagesPerSecondPerSource,
            lim.messageBurstPerSource ?? 2 * lim.messagesPerSecondPerSource,
          )
        : undefined;
    this.maxTxPerSource = lim.serverTransactionsPerSource ?? Infinity;
    this.maxTx = lim.serverTransactions ?? 200_000;
    this.maxHeld = lim.serverTransactionsHeld ?? 1_000_000;
    this.parseLimits = lim.parse;
    this.peers = opts.peers;
    const peers = opts.peers;
    this.admission = opts.admission ?? (peers ? (a, p, t, n) => peers.admit(a, p, t, n) : undefined);
    this.layer = new TransactionLayer({
      clock,
      timers: opts.timers,
      tryingDelayMs: opts.tryingDelayMs,
      send: (data, dest) => this.send(data, dest),
      user: {
        onRequest: (tx) => this.user.onRequest(tx),
        onAck: (ack, source) => this.user.onAck?.(ack, source),
        onStrayResponse: (res, source) => this.user.onStrayResponse?.(res, source),
      },
    });
  }

  /** Binds a UDP transport. Port 0 picks a free port. */
  async listenUdp(address: string, port: number): Promise<UdpTransport> {
    const t = await UdpTransport.bind({
      address,
      port,
      receiver: this,
      limits: this.parseLimits,
      onError: (e) => this.emit('error', e),
    });
    this.addTransport(t);
    return t;
  }

  /** Listens on TCP. Port 0 picks a free port. */
  async listenTcp(
    address: string,
    port: number,
    opts: Partial<Omit<TcpTransportOptions, 'address' | 'port' | 'receiver'>> = {},
  ): Promise<TcpTransport> {
    const t = await TcpTransport.listen({
      address,
      port,
      receiver: this,
      limits: this.parseLimits,
      onError: (e) => this.emit('error', e),
      ...opts,
    });
    this.addTransport(t);
    return t;
  }

  /** Listens on TLS (SIPS, RFC 3261 section 26.2) with the given certificate. Port 0 picks a free port. */
  async listenTls(
    address: string,
    port: number,
    opts: Omit<TlsTransportOptions, 'address' | 'port' | 'receiver'>,
  ): Promise<TlsTransport> {
    const t = await TlsTransport.listen({
      address,
      port,
      receiver: this,
      limits: this.parseLimits,
      onError: (e) => this.emit('error', e),
      ...opts,
    });
    this.addTransport(t);
    return t;
  }

  /**
   * A SIP over WebSocket transport (RFC 7118) for an HTTP server at `address:port`, which hands it
   * upgrade requests (`handleUpgrade`) for its path.
   */
  listenWs(
    address: string,
    port: number,
    opts: Partial<Omit<WsTransportOptions, 'address' | 'port' | 'receiver'>> = {},
  ): WsTransport {
    const t = new WsTransport({
      address,
      port,
      receiver: this,
      limits: this.parseLimits,
      onError: (e) => this.emit('error', e),
      ...opts,
    });
    this.addTransport(t);
    return t;
  }

  /** Adds a transport whose receiver is this endpoint (e.g. a MemoryTransport in tests). */
  addTransport(t: Transport): void {
    this.transports.set(t.protocol, t);
  }

  transport(protocol: TransportProtocol): Transport | undefined {
    return this.transports.get(protocol);
  }

  /** Sends bytes through the transport of `dest.protocol`. */
  send(data: Buffer, dest: Peer): Promise<void> | void {
    const t = this.transports.get(dest.protocol);
    if (!t) throw new SipStateError('SIP_TRANSPORT_CLOSED', `no ${dest.protocol} transport`);
    return t.send(data, dest);
  }

  /** Sends a message outside any transaction (stateless responses, ACK for 2xx). */
  sendStateless(msg: SipMessage, dest: Peer): void {
    try {
      const p = this.send(msg.serialize(), dest);
      if (p) p.catch((e: unknown) => this.emit('error', e));
    } catch (e) {
      this.emit('error', e);
    }
  }

  /** The Via value this endpoint puts on requests it sends over `protocol` (with rport, RFC 3581). */
  viaFor(protocol: TransportProtocol, branch = newBranch()): string {
    const t = this.transports.get(protocol);
    const port = t ? t.localPort : 5060;
    return `SIP/2.0/${protocol} ${this.advertisedAddress}:${port};branch=${branch};rport`;
  }

  /**
   * Sends a request in a new client transaction: pushes our Via (with a fresh branch) on top and
   * starts the transaction towards `dest` (an address; nothing is resolved).
   *
   * A UDP request larger than 1,300 bytes goes over TCP to the same address and port when a TCP
   * transport is listening, its Via saying so (RFC 3261 section 18.1.1: the path MTU is unknown).
   */
  sendRequest(req: SipRequest, dest: Peer, tu: ClientTransactionUser): ClientTransaction {
    const branch = newBranch();
    req.append('Via', this.viaFor(dest.protocol, branch), true);
    if (
      dest.protocol === 'UDP' &&
      this.transports.has('TCP') &&
      mustLeaveUdp('UDP', req.serialize().length)
    ) {
      dest = { protocol: 'TCP', address: dest.address, port: dest.port };
      req.replaceTopVia(parseVia(this.viaFor('TCP', branch)));
    }
    return this.layer.sendRequest(req, dest, tu);
  }

  /** Sends an ACK for a 2xx: its own Via branch, no transaction (section 13.2.2.4). */
  sendAck(ack: SipRequest, dest: Peer): void {
    ack.append('Via', this.viaFor(dest.protocol), true);
    this.sendStateless(ack, dest);
  }

  // TransportReceiver

  admit(address: string, port: number, protocol: TransportProtocol, bytes: number): boolean {
    if (this.admission === undefined || this.admission(address, port, protocol, bytes)) return true;
    this.stats.notAdmitted++;
    return false;
  }

  onMessage(msg: SipMessage, source: Peer): void {
    if (this.closed) return;
    this.stats.received++;
    if (this.limiter && !this.limiter.take(source.address)) {
      this.stats.rateLimited++;
      this.emit('rejected', 'rate limit', source, undefined);
      return;
    }
    if (!msg.isRequest) {
      const res = msg as SipResponse;
      const why = checkResponse(res);
      if (why !== undefined) {
        this.stats.invalid++;
        this.emit('rejected', why, source, undefined);
        return;
      }
      this.layer.receiveResponse(res, source);
      return;
    }
    const req = msg as SipRequest;
    const problem = checkRequest(req);
    if (problem) {
      this.stats.invalid++;
      this.emit('rejected', problem.detail, source, problem.status);
      if (req.method !== 'ACK') this.sendStateless(createResponse(req, problem.status), source);
      return;
    }
    stampVia(req, source);
    const rule = this.peers?.ruleFor(source);
    if (req.method !== 'ACK' && !this.layer.matchesExisting(req, source)) {
      const perSource = rule ? rule.maxTransactions : this.maxTxPerSource;
      const why =
        this.layer.inProgressCount >= this.maxTx ||
        this.layer.serverCount >= this.maxHeld ||
        (perSource !== Infinity && this.layer.serverCountFor(source.address) >= perSource)
          ? 'too many transactions from this source'
          : rule && !this.peers!.takeRequest(source, rule)
            ? `${rule.peerClass} over its request rate`
            : undefined;
      if (why !== undefined) {
        this.stats.overloaded++;
        this.emit('rejected', why, source, 503);
        const retryAfter = rule?.retryAfterS ?? 5;
        this.sendStateless(
          createResponse(req, 503, { headers: [['Retry-After', retryAfter]] }),
          responseDestination(req, source),
        );
        return;
      }
    }
    this.layer.receiveRequest(req, source, rule?.stateless ?? false);
  }

  onParseError(error: SipMessageError, source: Peer): void {
    if (this.closed) return;
    this.stats.received++;
    this.stats.parseErrors++;
    if (this.limiter && !this.limiter.take(source.address)) {
      this.stats.rateLimited++;
      return;
    }
    const res = createErrorResponse(error.partial, error.status);
    this.emit('rejected', `${error.code}: ${error.message}`, source, res?.status);
    if (res) this.sendStateless(res, source);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.layer.close();
    await Promise.all([...this.transports.values()].map((t) => t.close()));
    this.transports.clear();
  }
}

/**
 * Adds `received` when the top Via's host is not the source address, and fills `rport` when the
 * client asked for it (RFC 3261 section 18.2.1, RFC 3581 section 4).
 */
export function stampVia(req: SipRequest, source: Peer): void {
  const via = req.topVia;
  const wantsRport = via.params.get('rport') === null;
  if (!wantsRport && via.host === source.address) return;
  via.params.set('received', source.address);
  if (wantsRport) via.params.set('rport', String(source.port));
  req.replaceTopVia(via);
}
