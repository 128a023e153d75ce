/**
 * SIP over UDP (RFC 3261 section 18): one datagram, one message. Responses and requests are sent to
 * an address and port given by the caller; this transport never resolves names.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { DEFAULT_LIMITS, parseDatagram, type ParseLimits, SipMessageError } from '../parser.ts';
import type { Peer, Transport, TransportReceiver } from './transport.ts';
import { TransportError } from '../transaction/transaction.ts';

export interface UdpTransportOptions {
  address: string;
  port: number;
  receiver: TransportReceiver;
  limits?: ParseLimits;
  /** Kernel receive buffer (bytes); larger absorbs bursts. Default 4 MiB. */
  receiveBufferSize?: number;
  /** Errors that are not the peer's fault (bugs, socket errors). */
  onError?(err: unknown): void;
}

export class UdpTransport implements Transport {
  readonly protocol = 'UDP' as const;
  readonly reliable = false;
  readonly localAddress: string;
  readonly localPort: number;
  private readonly socket: Socket;

  private constructor(socket: Socket, address: string, port: number) {
    this.socket = socket;
    this.localAddress = address;
    this.localPort = port;
  }

  static async bind(opts: UdpTransportOptions): Promise<UdpTransport> {
    const family = isIP(opts.address) === 6 ? 'udp6' : 'udp4';
    const socket = createSocket({ type: family });
    const limits = opts.limits ?? DEFAULT_LIMITS;
    const onError = opts.onError ?? (() => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.port, opts.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    try {
      socket.setRecvBufferSize(opts.receiveBufferSize ?? 4 * 1024 * 1024);
      socket.setSendBufferSize(4 * 1024 * 1024);
    } catch {
      // the kernel may cap the size; the default still works
    }
    const t = new UdpTransport(socket, opts.address, socket.address().port);
    socket.on('error', onError);
    const admit = opts.receiver.admit?.bind(opts.receiver);
    socket.on('message', (data, rinfo) => {
      if (admit && !admit(rinfo.address, rinfo.port, 'UDP', data.length)) return;
      // Lone CRLFs are keep-alives (RFC 5626 section 3.5.1 uses them on streams; tolerate them here).
      if (data.length <= 4 && data.every((b) => b === 13 || b === 10)) return;
      const source: Peer = { protocol: 'UDP', address: rinfo.address, port: rinfo.port };
      let msg;
      try {
        msg = parseDatagram(data, limits);
      } catch (e) {
        if (e instanceof SipMessageError) {
          try {
            opts.receiver.onParseError(e, source, t, false);
          } catch (err) {
            onError(err);
          }
        } else onError(e);
        return;
      }
      try {
        opts.receiver.onMessage(msg, source, t);
      } catch (err) {
        onError(err);
      }
    });
    return t;
  }

  /** Sends to an IP address; a host name is refused rather than resolved. */
  send(data: Buffer, dest: Peer): void {
    if (isIP(dest.address) === 0) throw new TransportError(`not an IP address: ${dest.address}`);
    this.socket.send(data, dest.port, dest.address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
