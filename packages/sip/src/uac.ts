/**
 * What a user agent client needs beside the user-agent core (ua/): the error a request that
 * ended without a 2xx rejects with, and the peer of an IP-literal URI. Destinations are addresses
 * chosen by the caller; nothing here resolves names.
 */
import { isIP } from 'node:net';
import type { SipResponse } from './message.ts';
import type { Peer, TransportProtocol } from './transport/transport.ts';
import { isSipUri, type Uri } from './uri.ts';

/** A request that ended without a 2xx: 408 for a timeout, 503 for a transport error. */
export class SipRequestFailed extends Error {
  readonly code = 'SIP_REQUEST_FAILED';
  constructor(
    readonly status: number,
    readonly response: SipResponse | undefined,
  ) {
    super(`request failed with ${status}`);
  }
}

/**
 * The peer of a URI whose host is an IP literal; undefined for a name (we do not resolve). The
 * URI's `transport` parameter, when present, picks the protocol (RFC 3261 section 19.1.1).
 */
export function peerFromUri(uri: Uri, protocol: TransportProtocol = 'UDP'): Peer | undefined {
  if (!isSipUri(uri)) return undefined;
  const host = uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host;
  if (isIP(host) === 0) return undefined;
  const t = uri.param('transport');
  // A SIPS URI without a transport parameter means TLS (RFC 3261 section 26.2.2).
  const proto =
    typeof t === 'string' ? (t.toUpperCase() as TransportProtocol) : uri.scheme === 'sips' ? 'TLS' : protocol;
  const defaultPort = uri.scheme === 'sips' || proto === 'TLS' ? 5061 : 5060;
  return { protocol: proto, address: host, port: uri.port ?? defaultPort };
}
