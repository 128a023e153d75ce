/** A SIP peer on a Node `tls` socket for tests: sends text, collects framed messages. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';
import { type SipMessage, StreamFramer } from '../src/index.ts';

const FIXTURES = new URL('./fixtures/tls/', import.meta.url);
/** A self-signed certificate for 127.0.0.1 and localhost, valid until 2126 (test data only). */
export const SERVER_CERT = readFileSync(new URL('server-cert.pem', FIXTURES), 'utf8');
export const SERVER_KEY = readFileSync(new URL('server-key.pem', FIXTURES), 'utf8');
/** Another one, for the test peer's own listening side. */
export const CLIENT_CERT = readFileSync(new URL('client-cert.pem', FIXTURES), 'utf8');
export const CLIENT_KEY = readFileSync(new URL('client-key.pem', FIXTURES), 'utf8');

export interface TlsPeer {
  sock: TLSSocket;
  got: SipMessage[];
  closed: boolean;
  send(text: string): void;
  /** The next message (after those already taken) matching `pred`, waiting up to `ms`. */
  next(pred?: (m: SipMessage) => boolean, ms?: number): Promise<SipMessage>;
}

/** Connects to `port` on 127.0.0.1, trusting `ca` (the server's certificate), and waits for the handshake. */
export async function tlsPeer(port: number, ca: string = SERVER_CERT): Promise<TlsPeer> {
  const framer = new StreamFramer();
  let taken = 0;
  const sock = connect({ host: '127.0.0.1', port, ca });
  const peer: TlsPeer = {
    sock,
    got: [],
    closed: false,
    send: (text) => void sock.write(text),
    async next(pred = () => true, ms = 5000) {
      for (let t = 0; t < ms; t += 5) {
        while (taken < peer.got.length) {
          const m = peer.got[taken++]!;
          if (pred(m)) return m;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.fail('no such message in time');
    },
  };
  sock.on('data', (d) => {
    for (const ev of framer.push(d)) if (ev.kind === 'message') peer.got.push(ev.message);
  });
  sock.on('close', () => (peer.closed = true));
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    sock.once('secureConnect', () => resolve());
    sock.once('error', reject);
  });
  return peer;
}
