/**
 * SIP over TLS (SIPS) on 127.0.0.1 with a Node `tls` peer: a whole call (INVITE, 200, ACK, BYE) and a
 * registration-shaped exchange (REGISTER, 401 digest challenge, REGISTER with credentials, 200), a
 * lost connection reopened to the Via sent-by port over TLS, and the pre-parse admission hook
 * refusing a source before any handshake.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import {
  answerChallenge,
  createResponse,
  DigestServer,
  type InviteSession,
  type SipMessage,
  type SipResponse,
  SipEndpoint,
  type ServerTransaction,
  StreamFramer,
  UserAgentCore,
} from '../src/index.ts';
import { CLIENT_CERT, CLIENT_KEY, SERVER_CERT, SERVER_KEY, tlsPeer } from './tls-peer.ts';

const open: Array<{ close(): unknown }> = [];
after(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

const status = (m: SipMessage) => (m as SipResponse).status;
const final = (m: SipMessage) => !m.isRequest && status(m) >= 200;

function request(method: string, uri: string, callId: string, cseq: number, extra = '', body = ''): string {
  return (
    `${method} ${uri} SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-${callId}-${method}-${cseq}\r\n` +
    `Max-Forwards: 70\r\nFrom: <sips:alice@127.0.0.1>;tag=a1\r\nTo: <sips:bob@127.0.0.1>\r\n` +
    `Call-ID: ${callId}\r\nCSeq: ${cseq} ${method}\r\nContact: <sips:alice@127.0.0.1:5999>\r\n${extra}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

async function tlsUa(onRequest?: (tx: ServerTransaction) => void) {
  const sessions: InviteSession[] = [];
  const ua = new UserAgentCore({
    advertisedAddress: '127.0.0.1',
    tryingDelayMs: -1,
    policy: {
      allow: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER'],
      supported: [],
      accept: ['application/sdp'],
      isLocalTarget: () => true,
    },
    handlers: {
      onInvite: (inv) => {
        const s = inv.accept({ body: 'v=0\r\n', contentType: 'application/sdp' });
        if (s) sessions.push(s);
      },
      onRequest,
    },
  });
  open.push(ua);
  const tls = await ua.endpoint.listenTls('127.0.0.1', 0, { cert: SERVER_CERT, key: SERVER_KEY });
  return { ua, tls, sessions };
}

describe('SIP over TLS', () => {
  test('a call: INVITE, 200 with a SIPS Contact, ACK, BYE, 200', async () => {
    const { tls, sessions } = await tlsUa();
    const c = await tlsPeer(tls.localPort);
    const uri = `sips:bob@127.0.0.1:${tls.localPort}`;
    c.send(request('INVITE', uri, 'tls-call', 1, 'Content-Type: application/sdp\r\n', 'v=0\r\n'));
    const ok = (await c.next(final)) as SipResponse;
    assert.equal(ok.status, 200);
    assert.match(ok.get('contact')!, new RegExp(`^<sips:ua@127\\.0\\.0\\.1:${tls.localPort}>`));
    assert.equal(ok.topVia.transport, 'TLS');
    assert.equal(ok.topVia.received, undefined, 'sent-by is the source address');
    const toTag = ok.to.tag!;
    const inDialog = (method: string, cseq: number) =>
      request(method, uri, 'tls-call', cseq).replace(
        '<sips:bob@127.0.0.1>\r\n',
        `<sips:bob@127.0.0.1>;tag=${toTag}\r\n`,
      );
    c.send(inDialog('ACK', 1));
    const session = sessions[0]!;
    await new Promise<void>((r) => (session.state === 'confirmed' ? r() : session.once('confirmed', r)));
    const ended = new Promise<string>((r) => session.once('terminated', r));
    c.send(inDialog('BYE', 2));
    const byeOk = await c.next(final);
    assert.equal(status(byeOk), 200);
    assert.equal(byeOk.cseq.method, 'BYE');
    assert.equal(await ended, 'bye');
    c.sock.destroy();
  });

  test('a registration-shaped exchange: REGISTER, 401 challenge, REGISTER with credentials, 200 with the binding', async () => {
    const digest = new DigestServer({ realm: '127.0.0.1' });
    const lookup = async (user: string) => (user === 'alice' ? { password: 'secret' } : undefined);
    const { tls } = await tlsUa((tx) => {
      const req = tx.request;
      if (req.method !== 'REGISTER') return tx.respond(createResponse(req, 405));
      void digest.verify(req, lookup).then((v) => {
        if (!v.ok)
          return tx.respond(
            createResponse(req, 401, { headers: digest.challenge().map((h) => ['WWW-Authenticate', h]) }),
          );
        tx.respond(
          createResponse(req, 200, {
            headers: [
              ['Contact', `${req.get('contact')};expires=600`],
              ['Date', new Date(0).toUTCString()],
            ],
          }),
        );
      });
    });
    const c = await tlsPeer(tls.localPort);
    const uri = `sips:127.0.0.1:${tls.localPort}`;
    const reg = (cseq: number, auth = '') =>
      request(
        'REGISTER',
        uri,
        'tls-reg',
        cseq,
        auth ? `Authorization: ${auth}\r\nExpires: 600\r\n` : 'Expires: 600\r\n',
      );
    c.send(reg(1));
    const challenge = (await c.next(final)) as SipResponse;
    assert.equal(challenge.status, 401);
    const auth = answerChallenge(
      challenge.get('www-authenticate')!,
      { username: 'alice', password: 'secret' },
      'REGISTER',
      uri,
    );
    assert.ok(auth);
    c.send(reg(2, auth));
    const ok = (await c.next(final)) as SipResponse;
    assert.equal(ok.status, 200);
    assert.match(ok.get('contact')!, /^<sips:alice@127\.0\.0\.1:5999>;expires=600$/);
    c.sock.destroy();
  });

  test('a lost connection is reopened over TLS to the Via sent-by port, checking the certificate there', async () => {
    let pending: ServerTransaction | undefined;
    const ep = new SipEndpoint({
      advertisedAddress: '127.0.0.1',
      user: { onRequest: (tx) => (pending = tx) },
    });
    open.push(ep);
    const tls = await ep.listenTls('127.0.0.1', 0, {
      cert: SERVER_CERT,
      key: SERVER_KEY,
      connect: { ca: CLIENT_CERT },
    });
    // The phone's own TLS listener, named in its Via.
    const received: SipMessage[] = [];
    const accepted: TLSSocket[] = [];
    const phone = createTlsServer({ cert: CLIENT_CERT, key: CLIENT_KEY }, (s) => {
      accepted.push(s);
      const framer = new StreamFramer();
      s.on('data', (d) => {
        for (const ev of framer.push(d)) if (ev.kind === 'message') received.push(ev.message);
      });
    });
    await new Promise<void>((r) => phone.listen(0, '127.0.0.1', () => r()));
    open.push({
      close: () =>
        new Promise<void>((r) => {
          for (const s of accepted) s.destroy();
          phone.close(() => r());
        }),
    });
    const phonePort = (phone.address() as { port: number }).port;
    const c = await tlsPeer(tls.localPort);
    c.send(
      request('OPTIONS', `sips:127.0.0.1:${tls.localPort}`, 'tls-reopen', 1).replace(
        '127.0.0.1:5999;',
        `127.0.0.1:${phonePort};`,
      ),
    );
    for (let i = 0; i < 300 && !pending; i++) await new Promise((r) => setTimeout(r, 10));
    c.sock.destroy();
    for (let i = 0; i < 300 && tls.connectionCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
    pending!.respond(createResponse(pending!.request, 200));
    for (let i = 0; i < 300 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(received.length, 1);
    assert.equal(status(received[0]!), 200);
    assert.equal(c.got.length, 0, 'nothing on the old connection');
  });

  test('the admission hook refuses a source before its TLS handshake', async () => {
    const asked: string[] = [];
    const ep = new SipEndpoint({
      advertisedAddress: '127.0.0.1',
      user: { onRequest: (tx) => tx.respond(createResponse(tx.request, 200)) },
      admission: (address, _port, protocol) => (asked.push(`${protocol} ${address}`), false),
    });
    open.push(ep);
    const tls = await ep.listenTls('127.0.0.1', 0, { cert: SERVER_CERT, key: SERVER_KEY });
    await assert.rejects(tlsPeer(tls.localPort));
    assert.deepEqual(asked, ['TLS 127.0.0.1']);
    assert.equal(tls.handshakeFailures, 0, 'no handshake was even attempted');
    assert.equal(tls.connectionCount, 0);
  });
});
