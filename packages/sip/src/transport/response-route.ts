/**
 * Where responses go and when a request must leave UDP (RFC 3261 sections 18.1.1 and 18.2.2,
 * RFC 3581 section 4).
 *
 * The address is always the request's source address: `received` names it whenever the Via's
 * sent-by differs, and a sent-by equal to the source is that same address. Nothing from the message
 * is ever resolved, and `maddr` (a multicast group or name) is ignored on purpose: following it
 * would let any request aim our responses at a third party.
 */
import type { SipRequest } from '../message.ts';
import type { Peer, TransportProtocol } from './transport.ts';

/** Section 18.1.1: larger requests go over a congestion-controlled transport (TCP) when the MTU is unknown. */
export const UDP_REQUEST_LIMIT = 1300;

/** The port a sent-by without one means (section 18.2.2): 5061 for TLS (and SIPS), else 5060. */
export function defaultPort(transport: string): number {
  const t = transport.toUpperCase();
  return t === 'TLS' || t === 'WSS' ? 5061 : 5060;
}

/**
 * The destination of responses to `req`, which arrived from `source` and whose top Via already
 * carries `received`/`rport` (see `stampVia`).
 *
 * - Over UDP: the source port only when the client asked for it with `rport` (RFC 3581); otherwise
 *   the port in sent-by, or the transport's default (section 18.2.2), since a client without
 *   rport may listen on a port other than the one it sent from.
 * - Over a stream (TCP, TLS, WS): the connection the request came on (`connectionId`); should it be
 *   gone, a new connection goes to the sent-by port, never to the peer's ephemeral source port,
 *   where nothing listens (section 18.2.2).
 */
export function responseDestination(req: SipRequest, source: Peer): Peer {
  const via = req.topVia;
  if (source.protocol === 'UDP' && via.params.has('rport')) return source;
  const port = via.port ?? defaultPort(via.transport);
  if (port === source.port) return source;
  const dest: Peer = { protocol: source.protocol, address: source.address, port };
  if (source.connectionId !== undefined) dest.connectionId = source.connectionId;
  return dest;
}

/** Whether a request of `size` bytes for `protocol` must go over TCP instead (section 18.1.1). */
export function mustLeaveUdp(protocol: TransportProtocol, size: number): boolean {
  return protocol === 'UDP' && size > UDP_REQUEST_LIMIT;
}
