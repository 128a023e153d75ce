/** SIP over TCP (RFC 3261 section 18): a {@link StreamTransport} on plain sockets. */
import { connect, createServer } from 'node:net';
import { type StreamSockets, StreamTransport, type StreamTransportOptions } from './stream.ts';

export type TcpTransportOptions = StreamTransportOptions;

const tcpSockets: StreamSockets = {
  protocol: 'TCP',
  createServer: (onSocket) => createServer(onSocket),
  connect: (dest, localAddress) => connect({ host: dest.address, port: dest.port, localAddress }),
  ready: 'connect',
};

export class TcpTransport extends StreamTransport {
  static async listen(opts: TcpTransportOptions): Promise<TcpTransport> {
    const t = new TcpTransport(tcpSockets, opts);
    await t.start(opts.port);
    return t;
  }
}
