/**
 * SIP over TLS (RFC 3261 sections 18 and 26.2, SIPS, port 5061 by default): a
 * {@link StreamTransport} on TLS sockets, framed exactly as TCP.
 *
 * The server side presents the configured certificate and asks for none (phones rarely carry one;
 * they are authenticated by digest). Connections this side opens (a response whose connection was
 * lost, section 18.2.2, or a request) check the peer's certificate unless told otherwise: they go to
 * an IP address, so the certificate must name that address, or `connect.ca` / `rejectUnauthorized`
 * must say whom to trust.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, connect, createServer, type TlsOptions } from 'node:tls';
import { type StreamSockets, StreamTransport, type StreamTransportOptions } from './stream.ts';

export interface TlsTransportOptions extends StreamTransportOptions {
  /** PEM certificate (chain) this side presents. */
  cert: string | Buffer;
  /** PEM private key of `cert`. */
  key: string | Buffer;
  /** For connections this side opens: whom to trust. Default: the system's CAs, certificates checked. */
  connect?: Pick<ConnectionOptions, 'ca' | 'rejectUnauthorized'>;
  /** A handshake not done in this long is dropped (a silent peer must not hold a socket). Default 10 s. */
  handshakeTimeoutMs?: number;
}

export class TlsTransport extends StreamTransport {
  /** Handshakes that failed (bad clients, scanners), for metrics and tests. */
  handshakeFailures = 0;

  static async listen(opts: TlsTransportOptions): Promise<TlsTransport> {
    let t: TlsTransport | undefined;
    const serverOptions: TlsOptions = {
      cert: opts.cert,
      key: opts.key,
      requestCert: false,
      handshakeTimeout: opts.handshakeTimeoutMs ?? 10_000,
    };
    const sockets: StreamSockets = {
      protocol: 'TLS',
      createServer: (onSocket) => {
        const server = createServer(serverOptions, (s) => onSocket(s as Socket));
        // A failed handshake is the peer's problem, never ours: count it and go on.
        server.on('tlsClientError', (_err, s) => {
          if (t) t.handshakeFailures++;
          s.destroy();
        });
        return server;
      },
      // From our own address (as TCP does): a plain socket bound there, TLS on top of it.
      connect: (dest, localAddress) =>
        connect({
          socket: netConnect({ host: dest.address, port: dest.port, localAddress }),
          ...opts.connect,
        }),
      ready: 'secureConnect',
      handshake: true,
    };
    t = new TlsTransport(sockets, opts);
    await t.start(opts.port);
    return t;
  }
}
