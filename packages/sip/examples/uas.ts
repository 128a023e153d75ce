/**
 * Example user agent server on the @parley/sip user-agent core: answers every INVITE with 200 and
 * an SDP answer (the core retransmits the 2xx until the ACK, RFC 3261 section 13.3.1.4, and
 * answers BYE, OPTIONS, CANCEL and re-INVITEs), and optionally challenges INVITEs with digest
 * authentication. It is what bench/sip-uas, bench/sip-dialogs and the SIPp tests run against.
 *
 *   node --import tsx packages/sip/examples/uas.ts [port] [address] [--tls CERT KEY]
 */
import { readFileSync } from 'node:fs';
import {
  answerAudioOffer,
  DigestServer,
  type DigestAlgorithm,
  type IncomingInvite,
  PCMA,
  PCMU,
  type SessionOptions,
  TELEPHONE_EVENT,
  type TimerValues,
  UserAgentCore,
} from '../src/index.ts';

export interface ExampleUasOptions {
  address: string;
  /** UDP and TCP port; 0 for ephemeral (then UDP and TCP ports may differ). */
  port: number;
  advertisedAddress?: string;
  tcp?: boolean;
  /** Also SIP over TLS on a free port with this PEM certificate and key. */
  tls?: { cert: string; key: string };
  /** Challenge every new INVITE with digest (RFC 3261 section 22). */
  digest?: { realm: string; users: Record<string, string>; algorithms?: DigestAlgorithm[] };
  timers?: Partial<TimerValues>;
  /** Most dialogs held at once; beyond it INVITEs get 503. Default 200,000. */
  maxDialogs?: number;
  /** Session timers and keep-alive for every call. */
  session?: SessionOptions;
}

export interface ExampleUas {
  ua: UserAgentCore;
  udpPort: number;
  tcpPort: number | undefined;
  tlsPort: number | undefined;
  stats: {
    invites: number;
    answered: number;
    acked: number;
    byes: number;
    noAck: number;
    challenged: number;
    reinvites: number;
  };
  dialogs(): number;
  close(): Promise<void>;
}

const ALLOW = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'UPDATE'];

export async function startExampleUas(opts: ExampleUasOptions): Promise<ExampleUas> {
  const advertised = opts.advertisedAddress ?? opts.address;
  const stats = { invites: 0, answered: 0, acked: 0, byes: 0, noAck: 0, challenged: 0, reinvites: 0 };
  const digest = opts.digest
    ? new DigestServer({ realm: opts.digest.realm, algorithms: opts.digest.algorithms })
    : undefined;
  const users = opts.digest?.users ?? {};
  let rtpPort = 20000;

  async function authorized(inv: IncomingInvite): Promise<boolean> {
    if (!digest) return true;
    const verdict = await digest.verify(inv.request, async (u) =>
      u in users ? { password: users[u]! } : undefined,
    );
    if (verdict.ok) return true;
    stats.challenged++;
    inv.reject(401, {
      headers: digest
        .challenge(verdict.reason === 'stale')
        .map((c) => ['WWW-Authenticate', c] as [string, string]),
    });
    return false;
  }

  async function onInvite(inv: IncomingInvite): Promise<void> {
    stats.invites++;
    if (!(await authorized(inv))) return;
    const req = inv.request;
    let body: Buffer | undefined;
    if (req.body.length > 0) {
      rtpPort = rtpPort >= 60000 ? 20000 : rtpPort + 2;
      const answer = answerAudioOffer(req.body.toString('utf8'), {
        address: advertised,
        port: rtpPort,
        codecs: [PCMU, PCMA, TELEPHONE_EVENT],
      });
      if (!answer) {
        inv.reject(488);
        return;
      }
      body = Buffer.from(answer.sdp);
    }
    const session = inv.accept({ body });
    if (!session) return;
    stats.answered++;
    session.on('confirmed', () => stats.acked++);
    session.on('modified', (c) => c.remote && stats.reinvites++);
    session.on('terminated', (reason) => {
      if (reason === 'bye') stats.byes++;
      else if (reason === 'no-ack') stats.noAck++;
    });
  }

  const ua = new UserAgentCore({
    advertisedAddress: advertised,
    timers: opts.timers,
    maxDialogs: opts.maxDialogs,
    session: opts.session,
    policy: { allow: ALLOW, supported: ['timer'], accept: ['application/sdp'], isLocalTarget: () => true },
    handlers: { onInvite },
  });

  const udp = await ua.endpoint.listenUdp(opts.address, opts.port);
  const tcp = opts.tcp
    ? await ua.endpoint.listenTcp(opts.address, opts.port === 0 ? 0 : opts.port)
    : undefined;
  const tls = opts.tls ? await ua.endpoint.listenTls(opts.address, 0, opts.tls) : undefined;
  return {
    ua,
    udpPort: udp.localPort,
    tcpPort: tcp?.localPort,
    tlsPort: tls?.localPort,
    stats,
    dialogs: () => ua.dialogCount,
    close: () => ua.close(),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv[2] ?? 5070);
  const address = process.argv[3] ?? '127.0.0.1';
  // `--tls CERT KEY`: TLS too, on a free port.
  const t = process.argv.indexOf('--tls');
  const tls =
    t > 0
      ? { cert: readFileSync(process.argv[t + 1]!, 'utf8'), key: readFileSync(process.argv[t + 2]!, 'utf8') }
      : undefined;
  const uas = await startExampleUas({ address, port, tcp: true, tls });
  console.log(
    `example UAS on ${address}:${uas.udpPort} (UDP) and ${uas.tcpPort} (TCP)` +
      (uas.tlsPort ? ` and ${uas.tlsPort} (TLS)` : ''),
  );
  const report = setInterval(
    () => console.log(JSON.stringify({ ...uas.stats, dialogs: uas.dialogs() })),
    5000,
  );
  process.on('SIGINT', () => {
    clearInterval(report);
    void uas.close().then(() => process.exit(0));
  });
  process.on('SIGTERM', () => {
    clearInterval(report);
    void uas.close().then(() => process.exit(0));
  });
}
