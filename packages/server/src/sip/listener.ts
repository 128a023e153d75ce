/**
 * The SIP listener: Parley's SIP edge on UDP and TCP (PARLEY_SIP_PORT), built on @parley/sip.
 *
 * Parley is a user agent server, registrar and back-to-back user agent, never a proxy. Until the
 * registrar and calls exist it answers as RFC 3261 section 8.2 gives a UAS that does not serve the
 * target: OPTIONS gets 200 with Allow/Accept/Supported (section 11.2); a Request-URI outside every
 * tenant's domains gets 404; methods it does not implement get 405 (known) or 501 (unknown) with
 * Allow; INVITE to a tenant's user gets 480 (no calls yet) and to anyone else 404; BYE outside a
 * dialog gets 481.
 *
 * Safety: responses go to the source address of the request, at the source port when the client
 * asked for rport and at its Via sent-by port otherwise (RFC 3261 section 18.2.2, RFC 3581), never to
 * a host name from a message; malformed messages get 400 when a response can be formed and are dropped
 * otherwise; per-source message rate and transaction limits bound what any peer can cost.
 */
import type { Logger } from 'pino';
import {
  type IncomingInvite,
  isSipUri,
  type SipEndpoint,
  type SipRequest,
  type UasPolicy,
  UserAgentCore,
} from '@parley/sip';

/** Methods the listener implements today (listed in Allow). */
export const SIP_ALLOW = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS'] as const;

export interface SipListenerLimits {
  /** Messages per second per source address (sustained). */
  messagesPerSecond: number;
  /** Messages a source may send in a burst. */
  burst: number;
  /** Live server transactions per source address (beyond: 503). */
  transactions: number;
  /** Idle TCP connections are closed after this many milliseconds. */
  tcpIdleMs: number;
  /** TCP connections per source address. */
  tcpConnectionsPerSource: number;
}

export interface SipListenerOptions {
  /** Address to bind. */
  address: string;
  /** UDP and TCP port; 0 picks a free UDP port and then the same port for TCP when possible. */
  port: number;
  /** Address written into Via, Contact and SDP: configured, never learned from an interface. */
  advertisedAddress: string;
  log: Logger;
  /** Whether a domain belongs to a tenant. */
  isLocalDomain(domain: string): Promise<boolean>;
  /** Whether `user@domain` is a user of a tenant (an INVITE to an unknown one gets 404). */
  isKnownUser(address: string): Promise<boolean>;
  limits: SipListenerLimits;
}

export interface SipListener {
  readonly udpPort: number;
  readonly tcpPort: number;
  readonly endpoint: SipEndpoint;
  readonly ua: UserAgentCore;
  close(): Promise<void>;
}

export async function startSipListener(opts: SipListenerOptions): Promise<SipListener> {
  const { log } = opts;
  const allow = SIP_ALLOW.join(', ');
  const ownHosts = new Set([opts.advertisedAddress.toLowerCase(), opts.address.toLowerCase()]);

  const knownUser = async (req: SipRequest): Promise<boolean> => {
    const uri = req.uri;
    return (
      isSipUri(uri) &&
      uri.user !== undefined &&
      (await opts.isKnownUser(`${uri.user}@${uri.host}`.toLowerCase()))
    );
  };

  const policy: UasPolicy = {
    allow: [...SIP_ALLOW],
    supported: [],
    accept: ['application/sdp'],
    async isLocalTarget(req: SipRequest) {
      const uri = req.uri;
      if (!isSipUri(uri)) return false;
      const host = uri.host.toLowerCase();
      if (ownHosts.has(host)) return true;
      if (!(await opts.isLocalDomain(host))) return false;
      // An INVITE to someone who does not exist at a tenant's domain is not found (RFC 3261
      // section 8.2.2.1, 21.4.5), whether or not it names a dialog.
      return req.method !== 'INVITE' || (await knownUser(req));
    },
  };

  async function onInvite(inv: IncomingInvite): Promise<void> {
    // A user of a tenant with no reachable device yet: 480 Temporarily Unavailable. The policy
    // above already answered 404 for an unknown user at a tenant's domain; at our own address
    // (no tenant domain) the user is looked up here.
    const uri = inv.request.uri;
    const atOwnHost = isSipUri(uri) && ownHosts.has(uri.host.toLowerCase());
    const known = !atOwnHost || (await knownUser(inv.request));
    inv.reject(known ? 480 : 404, { headers: [['Allow', allow]] });
  }

  // The user-agent core answers OPTIONS (200), BYE outside a dialog (481), the section 8.2 checks
  // and methods outside SIP_ALLOW (405/501); the listener only decides about new INVITEs.
  const ua = new UserAgentCore({
    advertisedAddress: opts.advertisedAddress,
    limits: {
      messagesPerSecondPerSource: opts.limits.messagesPerSecond,
      messageBurstPerSource: opts.limits.burst,
      serverTransactionsPerSource: opts.limits.transactions,
    },
    contactUser: 'parley',
    policy,
    handlers: { onInvite },
  });
  const endpoint = ua.endpoint;
  endpoint.on('error', (err) => log.warn({ err }, 'sip transport error'));
  endpoint.onListenerError = (err) => log.error({ err }, 'sip listener bug');
  endpoint.on('rejected', (reason, source, status) =>
    log.debug(
      { source: `${source.protocol}:${source.address}:${source.port}`, reason, status },
      'sip message rejected',
    ),
  );

  const udp = await endpoint.listenUdp(opts.address, opts.port);
  const tcpOptions = {
    idleTimeoutMs: opts.limits.tcpIdleMs,
    maxConnectionsPerAddress: opts.limits.tcpConnectionsPerSource,
  };
  let tcp;
  try {
    tcp = await endpoint.listenTcp(opts.address, udp.localPort, tcpOptions);
  } catch (err) {
    if (opts.port !== 0) {
      await ua.close();
      throw err;
    }
    tcp = await endpoint.listenTcp(opts.address, 0, tcpOptions);
  }
  log.info(
    { udp: udp.localPort, tcp: tcp.localPort, address: opts.address, advertised: opts.advertisedAddress },
    'sip listening',
  );
  return {
    udpPort: udp.localPort,
    tcpPort: tcp.localPort,
    endpoint,
    ua,
    close: () => ua.close(),
  };
}
