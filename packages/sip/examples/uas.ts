/**
 * Example user agent server on @parley/sip: answers every INVITE with 200 and an SDP answer,
 * retransmits the 2xx until the ACK (RFC 3261 section 13.3.1.4), answers BYE, OPTIONS and CANCEL,
 * and optionally challenges with digest authentication. It is what bench/sip-uas and the SIPp
 * tests run against.
 *
 *   node --import tsx packages/sip/examples/uas.ts [port] [address]
 */
import {
  AckWait,
  answerAudioOffer,
  createResponse,
  optionsResponse,
  Dialog,
  dialogKey,
  DigestServer,
  type DigestAlgorithm,
  InviteServerTransaction,
  newTag,
  PCMA,
  PCMU,
  screenRequest,
  type ServerTransaction,
  SipEndpoint,
  type SipRequest,
  TELEPHONE_EVENT,
  type TimerValues,
  type UasPolicy,
} from '../src/index.ts';

export interface ExampleUasOptions {
  address: string;
  /** UDP and TCP port; 0 for ephemeral (then UDP and TCP ports may differ). */
  port: number;
  advertisedAddress?: string;
  tcp?: boolean;
  /** Challenge every INVITE and BYE with digest (RFC 3261 section 22). */
  digest?: { realm: string; users: Record<string, string>; algorithms?: DigestAlgorithm[] };
  timers?: Partial<TimerValues>;
  /** Most dialogs held at once; beyond it INVITEs get 503. Default 200,000. */
  maxDialogs?: number;
}

export interface ExampleUas {
  endpoint: SipEndpoint;
  udpPort: number;
  tcpPort: number | undefined;
  stats: {
    invites: number;
    answered: number;
    acked: number;
    byes: number;
    noAck: number;
    challenged: number;
  };
  dialogs(): number;
  close(): Promise<void>;
}

const ALLOW = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS'];

export async function startExampleUas(opts: ExampleUasOptions): Promise<ExampleUas> {
  const advertised = opts.advertisedAddress ?? opts.address;
  const dialogs = new Map<string, { dialog: Dialog; ackWait: AckWait | undefined }>();
  const stats = { invites: 0, answered: 0, acked: 0, byes: 0, noAck: 0, challenged: 0 };
  const maxDialogs = opts.maxDialogs ?? 200_000;
  const digest = opts.digest
    ? new DigestServer({ realm: opts.digest.realm, algorithms: opts.digest.algorithms })
    : undefined;
  const users = opts.digest?.users ?? {};
  const policy: UasPolicy = {
    allow: ALLOW,
    supported: [],
    accept: ['application/sdp'],
    isLocalTarget: () => true,
  };
  let rtpPort = 20000;
  let contact = '';

  const endpoint: SipEndpoint = new SipEndpoint({
    advertisedAddress: advertised,
    timers: opts.timers,
    user: {
      onRequest: (tx) => {
        handle(tx).catch((e: unknown) => {
          endpoint.onListenerError(e);
          if (tx.state === 'trying' || tx.state === 'proceeding') tx.respond(createResponse(tx.request, 500));
        });
      },
      onAck: (ack) => {
        const d = dialogs.get(
          dialogKey({ callId: ack.callId, localTag: ack.to.tag ?? '', remoteTag: ack.from.tag ?? '' }),
        );
        if (d?.ackWait) {
          d.ackWait.ackReceived();
          d.ackWait = undefined;
          stats.acked++;
        }
      },
    },
  });

  async function authorized(tx: ServerTransaction): Promise<boolean> {
    if (!digest) return true;
    const verdict = await digest.verify(tx.request, async (u) =>
      u in users ? { password: users[u]! } : undefined,
    );
    if (verdict.ok) return true;
    stats.challenged++;
    tx.respond(
      createResponse(tx.request, 401, {
        headers: digest
          .challenge(verdict.reason === 'stale')
          .map((c) => ['WWW-Authenticate', c] as [string, string]),
      }),
    );
    return false;
  }

  async function handle(tx: ServerTransaction): Promise<void> {
    const req = tx.request;
    const rejection = await screenRequest(req, policy);
    if (rejection) {
      tx.respond(createResponse(req, rejection.status, { headers: rejection.headers }));
      return;
    }
    switch (req.method) {
      case 'OPTIONS':
        tx.respond(optionsResponse(req, policy));
        return;
      case 'BYE':
        return bye(tx, req);
      case 'INVITE':
        if (tx instanceof InviteServerTransaction) return inviteReq(tx, req);
    }
  }

  function bye(tx: ServerTransaction, req: SipRequest): void {
    const key = dialogKey({ callId: req.callId, localTag: req.to.tag ?? '', remoteTag: req.from.tag ?? '' });
    const d = dialogs.get(key);
    if (!d) {
      tx.respond(createResponse(req, 481));
      return;
    }
    if (!d.dialog.receiveRequest(req)) {
      tx.respond(createResponse(req, 500, { headers: [['Retry-After', 1]] }));
      return;
    }
    d.ackWait?.ackReceived();
    dialogs.delete(key);
    d.dialog.transition('terminated');
    stats.byes++;
    tx.respond(createResponse(req, 200));
  }

  async function inviteReq(tx: InviteServerTransaction, req: SipRequest): Promise<void> {
    stats.invites++;
    if (req.to.tag !== undefined) {
      // No re-INVITE support in this example: 481 unless the dialog exists, then keep media as is.
      const existing = dialogs.get(
        dialogKey({ callId: req.callId, localTag: req.to.tag, remoteTag: req.from.tag ?? '' }),
      );
      tx.respond(createResponse(req, existing ? 488 : 481));
      return;
    }
    if (!(await authorized(tx))) return;
    if (req.contact.length === 0) {
      // An INVITE must carry a Contact (RFC 3261 section 8.1.1.8): without one there is no dialog.
      tx.respond(createResponse(req, 400, { reason: 'Missing Contact' }));
      return;
    }
    if (dialogs.size >= maxDialogs) {
      tx.respond(createResponse(req, 503, { headers: [['Retry-After', 5]] }));
      return;
    }
    let body: Buffer | undefined;
    if (req.body.length > 0) {
      rtpPort = rtpPort >= 60000 ? 20000 : rtpPort + 2;
      const answer = answerAudioOffer(req.body.toString('utf8'), {
        address: advertised,
        port: rtpPort,
        codecs: [PCMU, PCMA, TELEPHONE_EVENT],
      });
      if (!answer) {
        tx.respond(createResponse(req, 488));
        return;
      }
      body = Buffer.from(answer.sdp);
    }
    const tag = newTag();
    const dialog = Dialog.fromRequest(req, tag);
    const entry: { dialog: Dialog; ackWait: AckWait | undefined } = { dialog, ackWait: undefined };
    dialogs.set(dialog.key, entry);
    const ok = createResponse(req, 200, {
      toTag: tag,
      headers: [
        ['Contact', contact],
        ['Allow', ALLOW.join(', ')],
      ],
      body,
      contentType: body ? 'application/sdp' : undefined,
    });
    stats.answered++;
    entry.ackWait = new AckWait(endpoint.layer.clock, tx, ok, endpoint.layer.timers, () => {
      // No ACK within 64*T1: confirm and end the dialog (section 13.3.1.4).
      stats.noAck++;
      entry.ackWait = undefined;
      dialogs.delete(dialog.key);
      try {
        endpoint.sendRequest(dialog.createRequest('BYE'), tx.peer, { onResponse() {} });
      } catch (e) {
        endpoint.onListenerError(e);
      }
      dialog.transition('terminated');
    });
  }

  const udp = await endpoint.listenUdp(opts.address, opts.port);
  const tcp = opts.tcp ? await endpoint.listenTcp(opts.address, opts.port === 0 ? 0 : opts.port) : undefined;
  contact = `<sip:uas@${advertised}:${udp.localPort}>`;
  return {
    endpoint,
    udpPort: udp.localPort,
    tcpPort: tcp?.localPort,
    stats,
    dialogs: () => dialogs.size,
    close: () => endpoint.close(),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv[2] ?? 5070);
  const address = process.argv[3] ?? '127.0.0.1';
  const uas = await startExampleUas({ address, port, tcp: true });
  console.log(`example UAS on ${address}:${uas.udpPort} (UDP) and ${uas.tcpPort} (TCP)`);
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
