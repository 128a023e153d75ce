/**
 * SIP.js (npm) running in Node as a browser softphone would: the `ws` package as its WebSocket and
 * a stub session-description handler (no WebRTC), for the WebSocket transport tests.
 */
import WebSocket from 'ws';
import {
  type BodyAndContentType,
  type Core,
  Inviter,
  type SessionDescriptionHandler,
  SessionState,
  UserAgent,
} from 'sip.js';

// SIP.js's transport opens `new WebSocket(server, 'sip')` on the global, which Node 20 lacks.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

/** An SDP offer/answer that is never used for media: the tests exercise signalling only. */
export const STUB_SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n';

class StubDescriptionHandler implements SessionDescriptionHandler {
  remote: string | undefined;
  close(): void {}
  getDescription(): Promise<BodyAndContentType> {
    return Promise.resolve({ body: STUB_SDP, contentType: 'application/sdp' });
  }
  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp';
  }
  setDescription(sdp: string): Promise<void> {
    this.remote = sdp;
    return Promise.resolve();
  }
  sendDtmf(): boolean {
    return false;
  }
}

export async function sipjsPeer(server: string, aor = 'sip:alice@127.0.0.1'): Promise<UserAgent> {
  const ua = new UserAgent({
    uri: UserAgent.makeURI(aor),
    transportOptions: { server },
    logLevel: 'error',
    sessionDescriptionHandlerFactory: () => new StubDescriptionHandler(),
  });
  await ua.start();
  return ua;
}

/** Sends OPTIONS outside a dialog and resolves with the final response's status. */
export function sipjsOptions(ua: UserAgent, target: string): Promise<Core.IncomingResponseMessage> {
  const uri = UserAgent.makeURI(target)!;
  const msg = ua.userAgentCore.makeOutgoingRequestMessage('OPTIONS', uri, ua.configuration.uri, uri, {});
  return new Promise((resolve) => {
    ua.userAgentCore.request(msg, {
      onAccept: (r) => resolve(r.message),
      onReject: (r) => resolve(r.message),
    });
  });
}

/** Calls `target`; resolves once the session is established (200 received and ACKed). */
export async function sipjsCall(ua: UserAgent, target: string): Promise<Inviter> {
  const inviter = new Inviter(ua, UserAgent.makeURI(target)!);
  const established = new Promise<void>((resolve, reject) => {
    inviter.stateChange.addListener((s) => {
      if (s === SessionState.Established) resolve();
      if (s === SessionState.Terminated) reject(new Error('call ended before it was established'));
    });
  });
  await inviter.invite();
  await established;
  return inviter;
}

export { SessionState };
