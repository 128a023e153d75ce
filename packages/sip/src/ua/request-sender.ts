/**
 * Sending a request and awaiting its final response, answering one digest challenge (RFC 3261
 * sections 8.1.3.5 and 22.2): a 401 or 407 is answered by building the request again (new CSeq,
 * same Call-ID and From tag; inside a dialog, the dialog's next CSeq) with Authorization or
 * Proxy-Authorization. Used by the user-agent core for REGISTER, OPTIONS, SUBSCRIBE and every
 * in-dialog request; INVITE has its own loop in outgoing-invite.ts (forking, CANCEL, Timer C).
 */
import { answerChallenge, type DigestCredentials } from '../digest.ts';
import type { SipEndpoint } from '../endpoint.ts';
import type { SipRequest, SipResponse } from '../message.ts';
import type { Peer } from '../transport/transport.ts';
import { SipRequestFailed } from '../uac.ts';

/** Builds the request; `auth` holds the credentials headers to add on a retry (empty at first). */
export type RequestBuilder = (auth: Array<[string, string]>) => SipRequest;

/**
 * The Authorization (401) or Proxy-Authorization (407) headers answering `res` for `req`, or
 * undefined when no challenge can be answered (unknown algorithm, qop=auth-int only).
 */
export function answerChallenges(
  req: SipRequest,
  res: SipResponse,
  credentials: DigestCredentials,
): Array<[string, string]> | undefined {
  const challengeHeader = res.status === 401 ? 'www-authenticate' : 'proxy-authenticate';
  const answerHeader = res.status === 401 ? 'Authorization' : 'Proxy-Authorization';
  const out: Array<[string, string]> = [];
  for (const ch of res.getAll(challengeHeader)) {
    const auth = answerChallenge(ch, credentials, req.method, req.uriText);
    if (auth) {
      out.push([answerHeader, auth]);
      break; // one answer per header kind: the first challenge we can meet
    }
  }
  return out.length > 0 ? out : undefined;
}

/** The credentials headers of a request, for the ACK of its 2xx (RFC 3261 section 13.2.2.4). */
export function credentialsOf(req: SipRequest): Array<[string, string]> {
  return [
    ...req.getAll('authorization').map((v) => ['Authorization', v] as [string, string]),
    ...req.getAll('proxy-authorization').map((v) => ['Proxy-Authorization', v] as [string, string]),
  ];
}

/**
 * Sends the request `build([])` to `dest` and resolves with the final response; a 401/407 is
 * answered once when `credentials` are given. A timeout rejects with {@link SipRequestFailed}
 * 408, a transport error with 503 (RFC 3261 section 8.1.3.1).
 */
export function sendNonInvite(
  endpoint: SipEndpoint,
  build: RequestBuilder,
  dest: Peer,
  credentials?: DigestCredentials,
): Promise<{ request: SipRequest; response: SipResponse }> {
  return new Promise((resolve, reject) => {
    let authTried = false;
    const attempt = (r: SipRequest): void => {
      endpoint.sendRequest(r, dest, {
        onResponse: (res) => {
          if (res.status < 200) return;
          if ((res.status === 401 || res.status === 407) && credentials && !authTried) {
            authTried = true;
            const auth = answerChallenges(r, res, credentials);
            if (auth) return attempt(build(auth));
          }
          resolve({ request: r, response: res });
        },
        onTimeout: () => reject(new SipRequestFailed(408, undefined)),
        onTransportError: () => reject(new SipRequestFailed(503, undefined)),
      });
    };
    try {
      attempt(build([]));
    } catch (e) {
      reject(e);
    }
  });
}
