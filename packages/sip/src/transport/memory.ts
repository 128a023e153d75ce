/**
 * An in-memory network for tests: transports exchange bytes through a shared {@link MemoryNetwork}
 * with no sockets, optionally losing datagrams, so whole-stack tests run fast and repeatably.
 * Delivery is asynchronous (a microtask), as on a real network.
 */
import { DEFAULT_LIMITS, parseDatagram, SipMessageError } from '../parser.ts';
import type { Peer, Transport, TransportProtocol, TransportReceiver } from './transport.ts';

export class MemoryNetwork {
  private readonly nodes = new Map<string, MemoryTransport>();
  /** Return true to drop a datagram (for loss tests). */
  drop: (data: Buffer, from: Peer, to: Peer) => boolean = () => false;
  /** Every datagram sent, for assertions. */
  readonly log: Array<{ from: Peer; to: Peer; data: Buffer }> = [];

  bind(
    address: string,
    port: number,
    receiver: TransportReceiver,
    protocol: TransportProtocol = 'UDP',
  ): MemoryTransport {
    const t = new MemoryTransport(this, address, port, protocol, receiver);
    this.nodes.set(`${protocol}:${address}:${port}`, t);
    return t;
  }

  /** @internal */
  deliver(from: MemoryTransport, data: Buffer, to: Peer): void {
    const src: Peer = { protocol: from.protocol, address: from.localAddress, port: from.localPort };
    this.log.push({ from: src, to, data });
    if (this.drop(data, src, to)) return;
    const node = this.nodes.get(`${to.protocol}:${to.address}:${to.port}`);
    if (!node) return;
    queueMicrotask(() => node.receive(data, src));
  }

  /** @internal */
  unbind(t: MemoryTransport): void {
    this.nodes.delete(`${t.protocol}:${t.localAddress}:${t.localPort}`);
  }
}

export class MemoryTransport implements Transport {
  readonly reliable: boolean;
  constructor(
    private readonly net: MemoryNetwork,
    readonly localAddress: string,
    readonly localPort: number,
    readonly protocol: TransportProtocol,
    private readonly receiver: TransportReceiver,
  ) {
    this.reliable = protocol !== 'UDP';
  }

  send(data: Buffer, dest: Peer): void {
    this.net.deliver(this, data, dest);
  }

  /** @internal */
  receive(data: Buffer, source: Peer): void {
    if (
      this.receiver.admit &&
      !this.receiver.admit(source.address, source.port, source.protocol, data.length)
    )
      return;
    try {
      this.receiver.onMessage(parseDatagram(data, DEFAULT_LIMITS), source, this);
    } catch (e) {
      if (e instanceof SipMessageError) this.receiver.onParseError(e, source, this, false);
      else throw e;
    }
  }

  async close(): Promise<void> {
    this.net.unbind(this);
  }
}
