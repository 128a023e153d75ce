/**
 * User agent client helpers (RFC 3261 sections 8.1, 13.2 and 22.2): send a request and await its
 * final response, answering a digest challenge once; place an INVITE, ACK its 2xx (and every
 * retransmission of it, section 13.2.2.4) and end the dialog with BYE.
 * Destinations are addresses chosen by the caller; nothing here resolves names.
 */
import { isIP } from 'node:net';
import { answerChallenge, type DigestCredentials } from './digest.ts';
import { Dialog } from './dialog.ts';
import type { SipEndpoint } from './endpoint.ts';
import { newCallId, newTag } from './ids.ts';
import { headerFields, type HeaderValue, SipRequest, type SipResponse } from './message.ts';
import type { Peer, TransportProtocol } from './transport/transport.ts';
import { isSipUri, type Uri } from './uri.ts';

/** A request that ended without a 2xx. */
export class SipRequestFailed extends Error {
  readonly code = 'SIP_REQUEST_FAILED';
  constructor(
    readonly status: number,
    readonly response: SipResponse | undefined,
  ) {
    super(`request failed with ${status}`);
  }
}

/** The peer of a URI whose host is an IP literal; undefined for a name (we do not resolve). */
export function peerFromUri(uri: Uri, protocol: TransportProtocol = 'UDP'): Peer | undefined {
  if (!isSipUri(uri)) return undefined;
  const host = uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host;
  if (isIP(host) === 0) return undefined;
  return { protocol, address: host, port: uri.port ?? 5060 };
}

function copyForRetry(req: SipRequest, header: string, value: string): SipRequest {
  const r = new SipRequest(
    req.method,
    req.uriText,
    req.headers.filter((h) => h.name !== 'via'),
    req.body,
  );
  const cseq = req.cseq;
  r.set('CSeq', `${cseq.seq + 1} ${cseq.method}`);
  r.remove(header).append(header, value);
  return r;
}

/**
 * Sends `req` (without Via; the endpoint adds it) and resolves with the final response. A 401 or
 * 407 is answered once with `credentials` (section 22.2). Provisional responses go to `onProvisional`.
 */
export function sendRequest(
  endpoint: SipEndpoint,
  req: SipRequest,
  dest: Peer,
  opts: {
    credentials?: DigestCredentials;
    onProvisional?(res: SipResponse): void;
    /** A 2xx arriving after the first final response (INVITE only, RFC 6026 Accepted state). */
    onRetransmitted2xx?(res: SipResponse): void;
  } = {},
): Promise<{ request: SipRequest; response: SipResponse }> {
  return new Promise((resolve, reject) => {
    let authTried = false;
    let settled = false;
    const attempt = (r: SipRequest): void => {
      endpoint.sendRequest(r, dest, {
        onResponse: (res) => {
          if (settled) {
            if (res.status >= 200 && res.status < 300) opts.onRetransmitted2xx?.(res);
            return;
          }
          if (res.status < 200) return opts.onProvisional?.(res);
          if ((res.status === 401 || res.status === 407) && opts.credentials && !authTried) {
            authTried = true;
            const challengeHeader = res.status === 401 ? 'www-authenticate' : 'proxy-authenticate';
            const answerHeader = res.status === 401 ? 'Authorization' : 'Proxy-Authorization';
            for (const ch of res.getAll(challengeHeader)) {
              const auth = answerChallenge(ch, opts.credentials, r.method, r.uriText);
              if (auth) return attempt(copyForRetry(r, answerHeader, auth));
            }
          }
          settled = true;
          resolve({ request: r, response: res });
        },
        onTimeout: () => reject(new SipRequestFailed(408, undefined)),
        onTransportError: () => reject(new SipRequestFailed(503, undefined)),
      });
    };
    attempt(req);
  });
}

export interface InviteOptions {
  /** Request-URI. */
  target: string;
  /** Our address of record (From). */
  from: string;
  /** The callee's address of record (To); defaults to the target. */
  to?: string;
  /** Our Contact URI. */
  contact: string;
  dest: Peer;
  sdp?: string;
  credentials?: DigestCredentials;
  headers?: Array<[string, HeaderValue]>;
  onProvisional?(res: SipResponse): void;
}

/** An established call from {@link invite}. */
export interface OutgoingCall {
  dialog: Dialog;
  response: SipResponse;
  /** Sends BYE in the dialog and resolves with its final response. */
  bye(): Promise<SipResponse>;
}

/**
 * Places a call: INVITE, then ACK for the 2xx (re-sent for each 2xx retransmission). Rejects with
 * {@link SipRequestFailed} for a non-2xx final response or a timeout.
 */
export async function invite(endpoint: SipEndpoint, o: InviteOptions): Promise<OutgoingCall> {
  const pairs: Array<[string, HeaderValue]> = [
    ['Max-Forwards', 70],
    ['From', `<${o.from}>;tag=${newTag()}`],
    ['To', `<${o.to ?? o.target}>`],
    ['Call-ID', newCallId(endpoint.advertisedAddress)],
    ['CSeq', '1 INVITE'],
    ['Contact', `<${o.contact}>`],
    ...(o.headers ?? []),
  ];
  if (o.sdp) pairs.push(['Content-Type', 'application/sdp']);
  const req = new SipRequest('INVITE', o.target, headerFields(pairs), o.sdp ? Buffer.from(o.sdp) : undefined);
  let ack: SipRequest | undefined;
  const { request, response } = await sendRequest(endpoint, req, o.dest, {
    credentials: o.credentials,
    onProvisional: o.onProvisional,
    // a retransmitted 2xx means our ACK was lost (section 13.2.2.4)
    onRetransmitted2xx: () => ack && endpoint.sendStateless(ack, o.dest),
  });
  if (response.status >= 300) throw new SipRequestFailed(response.status, response);
  const d = Dialog.fromResponse(request, response);
  ack = d.createRequest('ACK', { cseq: request.cseq.seq });
  endpoint.sendAck(ack, o.dest);
  return {
    dialog: d,
    response,
    bye: async () => {
      const byeReq = d.createRequest('BYE');
      d.transition('terminated');
      const { response: r } = await sendRequest(endpoint, byeReq, o.dest, {
        credentials: o.credentials,
      });
      return r;
    },
  };
}
