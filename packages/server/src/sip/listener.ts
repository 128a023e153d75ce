/**
 * The SIP listener: Parley's SIP edge on UDP and TCP (PARLEY_SIP_PORT), TLS (PARLEY_SIP_TLS_PORT) and
 * WebSocket at /sip on the HTTP server (RFC 7118, for browser softphones), built on @parley/sip.
 *
 * Parley is a user agent server, registrar and back-to-back user agent, never a proxy. It answers
 * as RFC 3261 section 8.2 gives a UAS: OPTIONS gets 200 with Allow/Accept/Supported (section 11.2);
 * a Request-URI outside every tenant's domains gets 404; methods it does not implement get 405
 * (known) or 501 (unknown) with Allow; BYE outside a dialog gets 481. An authenticated REGISTER goes
 * to the registrar (registrar.ts), and registered contacts are kept alive by OPTIONS (keepalive.ts).
 *
 * Peers (see @parley/sip's peer-policy.ts and peers.ts here): every datagram is classified before
 * parsing. Carriers, trusted by address, are not challenged: their INVITE goes to the trunks
 * (`trunks`, telephony/trunk-inbound.ts: a call to one of the carrier's numbers, 404 for any other). Everyone else is authenticated by digest
 * (digest-gate.ts) before anything about the target is said: 407 for INVITE and 401 for REGISTER
 * whatever the user, then 403 for wrong credentials; only an authenticated device learns 480 or
 * 404. Carriers do not register (403). An authenticated device's INVITE goes to the phone calls
 * (`phones`, phone-calls.ts), which place it as its user's call.
 *
 * Safety: responses go to the source address of the request, at the source port when the client
 * asked for rport and at its Via sent-by port otherwise (RFC 3261 section 18.2.2, RFC 3581), never to
 * a host name from a message; malformed messages get 400 when a response can be formed and are dropped
 * otherwise; unknown sources are rate-limited before parsing and answered statelessly; repeated
 * failed authentications block an address.
 */
import type { Logger } from 'pino';
import {
  createResponse,
  type DigestAlgorithm,
  type IncomingInvite,
  isSipUri,
  type PeerPolicy,
  type ServerTransaction,
  type SipEndpoint,
  type SipRequest,
  type UasPolicy,
  UserAgentCore,
  type WsTransport,
} from '@parley/sip';
import { DigestGate } from './digest-gate.ts';
import { KeepAlive } from './keepalive.ts';
import type { SipCredentials } from './peers.ts';
import type { Registrar } from './registrar.ts';
import type { RegistrationTable } from './registrations.ts';

/** Where browsers open SIP over WebSocket on the HTTP server (RFC 7118; subprotocol `sip`). */
export const SIP_WS_PATH = '/sip';

/**
 * Methods the listener implements today (listed in Allow). UPDATE (RFC 3311) is answered inside an
 * INVITE dialog (a carrier's session refresh, RFC 4028); outside one the listener refuses it 405.
 */
export const SIP_ALLOW = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'UPDATE'] as const;

export interface SipListenerLimits {
  /** Server transactions in progress in all (beyond: 503). */
  transactions: number;
  /** Server transactions held in all, completed ones included (beyond: 503). */
  transactionsHeld: number;
  /** How long a digest nonce is accepted, ms. */
  nonceMs: number;
  /** Digest algorithms challenged with, most preferred first. */
  digestAlgorithms?: DigestAlgorithm[];
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
  /** Peer classes, limits and blocks (built from the settings by `sipPeerPolicy`). */
  peers: PeerPolicy;
  /** Digest secrets of devices. */
  credentials: SipCredentials;
  limits: SipListenerLimits;
  /** The registrar and its table; without it an authenticated REGISTER gets 501. */
  registration?: {
    registrar: Registrar;
    table: RegistrationTable;
    /** OPTIONS keep-alive of registered contacts: interval (0: off) and answer timeout, ms. */
    keepAliveMs: number;
    keepAliveTimeoutMs: number;
  };
  /**
   * Calls from the phone network: a carrier's INVITE (a source the peer policy classed a carrier),
   * never challenged (telephony/trunk-inbound.ts). Without it a carrier's INVITE gets 480 or 404.
   */
  trunks?: { invite(inv: IncomingInvite): Promise<void> };
  /** Calls placed by phones: an authenticated INVITE, with the realm and user name it proved. */
  phones?: { invite(inv: IncomingInvite, who: { domain: string; username: string }): Promise<void> };
  /**
   * SIP over WebSocket (RFC 7118) on the HTTP server: its port, and whether it is reached as wss
   * (the public URL is https). The caller routes upgrades for /sip to `SipListener.ws`.
   */
  ws?: { port: number; secure: boolean };
  /** SIP over TLS (SIPS): its port (0: any free port) and the certificate it presents. */
  tls?: {
    port: number;
    cert: string;
    key: string;
    /** For TLS connections Parley opens: whom to trust, and whether to check at all. */
    connect: { ca?: string; rejectUnauthorized: boolean };
  };
}

export interface SipListener {
  readonly udpPort: number;
  readonly tcpPort: number;
  /** The TLS port, when TLS is on. */
  readonly tlsPort: number | undefined;
  /** The WebSocket transport, when on: hand it upgrade requests for its path. */
  readonly ws: WsTransport | undefined;
  readonly endpoint: SipEndpoint;
  readonly ua: UserAgentCore;
  readonly peers: PeerPolicy;
  /** The keep-alive of registered contacts, when a registrar is on. */
  readonly keepAlive: KeepAlive | undefined;
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

  const isOwnHost = (host: string) => ownHosts.has(host.toLowerCase());
  const localDomain = new DomainCache(opts.isLocalDomain);
  const isLocalHost = async (host: string) => isOwnHost(host) || (await localDomain.has(host.toLowerCase()));

  const policy: UasPolicy = {
    allow: [...SIP_ALLOW],
    supported: [],
    accept: ['application/sdp'],
    // Domains only: whether a user exists is said after authentication (no enumeration).
    isLocalTarget: (req: SipRequest) => isSipUri(req.uri) && isLocalHost(req.uri.host),
  };

  const gate = new DigestGate({
    credentials: opts.credentials,
    peers: opts.peers,
    nonceLifetimeMs: opts.limits.nonceMs,
    algorithms: opts.limits.digestAlgorithms,
    onBlocked: (source) =>
      log.warn({ source: source.address }, 'sip source blocked after repeated failed authentications'),
  });
  const isCarrier = (tx: ServerTransaction) =>
    opts.peers.classify(tx.peer.address, tx.peer.port, tx.peer.protocol) === 'carrier';

  async function onInvite(inv: IncomingInvite): Promise<void> {
    const req = inv.request;
    if (!isCarrier(inv.tx)) {
      // A device authenticates in its own tenant's realm: the From domain when it is ours, else
      // the domain called. Never the callee's existence.
      const from = req.from.uri;
      const realm =
        isSipUri(from) && (await isLocalHost(from.host)) ? from.host : (req.uri as { host: string }).host;
      const v = await gate.check(req, inv.tx.peer, realm);
      if (!v.ok) return inv.reject(v.status, { headers: v.headers });
      if (opts.phones) return opts.phones.invite(inv, { domain: realm.toLowerCase(), username: v.username });
    } else if (opts.trunks) return opts.trunks.invite(inv);
    // A user of a tenant with no reachable device yet: 480 Temporarily Unavailable; a user who
    // does not exist (or is disabled) is not found (RFC 3261 section 21.4.5).
    inv.reject((await knownUser(req)) ? 480 : 404, { headers: [['Allow', allow]] });
  }

  async function onRequest(tx: ServerTransaction): Promise<void> {
    const req = tx.request;
    if (req.method !== 'REGISTER') {
      tx.respond(createResponse(req, 405, { headers: [['Allow', allow]] }));
      return;
    }
    if (isCarrier(tx)) {
      tx.respond(createResponse(req, 403, { reason: 'Carriers Do Not Register' }));
      return;
    }
    // RFC 3261 section 10.3: the registrar authenticates in the domain of the Request-URI.
    const realm = (req.uri as { host: string }).host;
    const v = await gate.check(req, tx.peer, realm);
    if (!v.ok) {
      tx.respond(createResponse(req, v.status, { headers: v.headers }));
      return;
    }
    if (!opts.registration) {
      tx.respond(createResponse(req, 501, { reason: 'Registrar Not Available' }));
      return;
    }
    await opts.registration.registrar.handle(tx, v.username, realm);
  }

  // The user-agent core answers OPTIONS (200), BYE outside a dialog (481), the section 8.2 checks
  // and methods outside SIP_ALLOW (405/501); the listener decides about new INVITEs and REGISTERs.
  const ua = new UserAgentCore({
    advertisedAddress: opts.advertisedAddress,
    peers: opts.peers,
    limits: {
      serverTransactions: opts.limits.transactions,
      serverTransactionsHeld: opts.limits.transactionsHeld,
    },
    contactUser: 'parley',
    policy,
    handlers: { onInvite, onRequest },
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
  let tlsPort: number | undefined;
  if (opts.tls) {
    try {
      const tls = await endpoint.listenTls(opts.address, opts.tls.port, {
        ...tcpOptions,
        cert: opts.tls.cert,
        key: opts.tls.key,
        connect: opts.tls.connect,
      });
      tlsPort = tls.localPort;
    } catch (err) {
      await ua.close();
      throw err;
    }
  }
  const ws =
    opts.ws &&
    endpoint.listenWs(opts.address, opts.ws.port, {
      protocol: opts.ws.secure ? 'WSS' : 'WS',
      idleTimeoutMs: opts.limits.tcpIdleMs,
      maxConnectionsPerAddress: opts.limits.tcpConnectionsPerSource,
    });
  const reg = opts.registration;
  const keepAlive =
    reg &&
    new KeepAlive({
      ua,
      table: reg.table,
      drop: (b) => reg.registrar.dropBinding(b, 'unreachable'),
      intervalMs: reg.keepAliveMs,
      timeoutMs: reg.keepAliveTimeoutMs,
      onError: (err) => log.warn({ err }, 'sip keep-alive'),
    });
  log.info(
    {
      udp: udp.localPort,
      tcp: tcp.localPort,
      tls: tlsPort,
      ws: ws ? SIP_WS_PATH : undefined,
      address: opts.address,
      advertised: opts.advertisedAddress,
    },
    'sip listening',
  );
  return {
    udpPort: udp.localPort,
    tcpPort: tcp.localPort,
    tlsPort,
    ws,
    endpoint,
    ua,
    peers: opts.peers,
    keepAlive,
    close: () => {
      keepAlive?.close();
      return ua.close();
    },
  };
}

/** How long whether a domain is a tenant's is remembered, ms (a new tenant domain waits at most this). */
const DOMAIN_CACHE_MS = 5000;
/** Domains remembered at most (a flood of made-up domains only empties it). */
const DOMAIN_CACHE_MAX = 10_000;

/**
 * Whether a domain is a tenant's, remembered for a few seconds: every request asks it (the
 * Request-URI's domain, the From domain for a realm), and a phone re-registers and keeps calling
 * the same one, which would otherwise be a database read per request (measured at about a third of
 * the registrar's CPU per registration in bench/registrar).
 */
class DomainCache {
  private readonly known = new Map<string, { local: boolean; until: number }>();

  constructor(private readonly lookup: (domain: string) => Promise<boolean>) {}

  async has(domain: string): Promise<boolean> {
    const now = performance.now();
    const hit = this.known.get(domain);
    if (hit && hit.until > now) return hit.local;
    const local = await this.lookup(domain);
    if (this.known.size >= DOMAIN_CACHE_MAX) this.known.clear();
    this.known.set(domain, { local, until: now + DOMAIN_CACHE_MS });
    return local;
  }
}
