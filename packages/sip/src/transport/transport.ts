/**
 * The transport interface of RFC 3261 section 18. UDP and TCP implement it here; TLS and
 * WebSocket (RFC 7118) can be added later without touching the transaction layer, which only
 * sees {@link Transport} and {@link Peer}.
 */
import type { SipMessage } from '../message.ts';
import type { SipMessageError } from '../parser.ts';

export type TransportProtocol = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';

/** Where a message came from or goes to: always an IP address and port, never a host name. */
export interface Peer {
  protocol: TransportProtocol;
  address: string;
  port: number;
  /** For connection-oriented transports: the connection a message arrived on. */
  connectionId?: number;
}

/**
 * The pre-parse admission hook: asked before any byte of a datagram (or stream chunk, or new
 * connection, with `bytes` 0) is parsed, from the source address, port and transport alone, so a
 * flood or a blocked source costs one call and no parsing (the idea of Kamailio's pike module).
 * False drops the datagram; on a stream it closes the connection (a stream cannot lose bytes and
 * stay framed). It must be synchronous and cheap: it runs once per datagram.
 */
export type AdmissionCheck = (
  address: string,
  port: number,
  protocol: TransportProtocol,
  bytes: number,
) => boolean;

/** What a transport hands up for every received message. */
export interface TransportReceiver {
  /** Pre-parse admission (see {@link AdmissionCheck}); every transport calls it when present. */
  admit?: AdmissionCheck;
  /** A framed and parsed message. */
  onMessage(message: SipMessage, source: Peer, transport: Transport): void;
  /**
   * A message that could not be parsed. The receiver may `reply` with an error response; for
   * streams, `fatal` means the connection is closed after the reply (framing is lost).
   */
  onParseError(error: SipMessageError, source: Peer, transport: Transport, fatal: boolean): void;
}

export interface Transport {
  readonly protocol: TransportProtocol;
  /** Whether the transport retransmits by itself (RFC 3261 section 17: timers differ). */
  readonly reliable: boolean;
  /** The address and port it is bound to. */
  readonly localAddress: string;
  readonly localPort: number;
  /**
   * Sends bytes. Errors are reported by the returned promise only when `awaitResult` is used by
   * the implementation; the transaction layer treats a rejected send as a transport error
   * (RFC 3261 section 17.1.4).
   */
  send(data: Buffer, dest: Peer): Promise<void> | void;
  close(): Promise<void>;
}
