/**
 * SIP over TCP (RFC 3261 section 18): messages framed by Content-Length, CRLF keep-alives answered
 * (RFC 5626 section 4.4.1), idle connections closed, buffers and connection counts bounded.
 * Responses go back on the connection the request came in on (section 18.2.2); when it is gone, a
 * new connection is opened to the same address and port (never to a name from the message).
 */
import { connect, createServer, isIP, type Server, type Socket } from 'node:net';
import { DEFAULT_LIMITS, type ParseLimits } from '../parser.ts';
import { StreamFramer } from '../stream-framer.ts';
import { TransportError } from '../transaction/transaction.ts';
import type { Peer, Transport, TransportReceiver } from './transport.ts';

export interface TcpTransportOptions {
  address: string;
  port: number;
  receiver: TransportReceiver;
  limits?: ParseLimits;
  /** Close a connection after this long without traffic. Default 60 s. */
  idleTimeoutMs?: number;
  /** Connections at once, in and out. Default 10,000. */
  maxConnections?: number;
  /** Connections at once from one address. Default 100. */
  maxConnectionsPerAddress?: number;
  /** Close a connection whose peer does not read once this much is queued. Default 1 MiB. */
  maxQueuedBytes?: number;
  onError?(err: unknown): void;
}

/** Longest wait for an outgoing connection to be accepted. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Time between a fatal framing error and closing the connection. */
const FATAL_GRACE_MS = 500;

interface Connection {
  id: number;
  socket: Socket;
  peer: Peer;
  framer: StreamFramer;
}

export class TcpTransport implements Transport {
  readonly protocol = 'TCP' as const;
  readonly reliable = true;
  readonly localAddress: string;
  localPort = 0;
  private readonly server: Server;
  private readonly opts: Required<Omit<TcpTransportOptions, 'onError'>> & { onError(err: unknown): void };
  private readonly connections = new Map<number, Connection>();
  private readonly byPeer = new Map<string, Connection>();
  private readonly perAddress = new Map<string, number>();
  private nextId = 1;

  private constructor(opts: TcpTransportOptions) {
    this.localAddress = opts.address;
    this.opts = {
      limits: DEFAULT_LIMITS,
      idleTimeoutMs: 60_000,
      maxConnections: 10_000,
      maxConnectionsPerAddress: 100,
      maxQueuedBytes: 1024 * 1024,
      onError: () => {},
      ...opts,
    };
    this.server = createServer((socket) => this.accept(socket));
    this.server.on('error', (e) => this.opts.onError(e));
  }

  static async listen(opts: TcpTransportOptions): Promise<TcpTransport> {
    const t = new TcpTransport(opts);
    await new Promise<void>((resolve, reject) => {
      t.server.once('error', reject);
      t.server.listen(opts.port, opts.address, () => {
        t.server.off('error', reject);
        resolve();
      });
    });
    const a = t.server.address();
    t.localPort = typeof a === 'object' && a ? a.port : opts.port;
    return t;
  }

  /** Open connections (for tests and metrics). */
  get connectionCount(): number {
    return this.connections.size;
  }

  private accept(socket: Socket): void {
    const address = socket.remoteAddress ?? '';
    if (
      this.connections.size >= this.opts.maxConnections ||
      !this.admitted(address, socket.remotePort ?? 0, 0) ||
      (this.perAddress.get(address) ?? 0) >= this.opts.maxConnectionsPerAddress
    ) {
      socket.destroy();
      return;
    }
    this.adopt(socket, { protocol: 'TCP', address, port: socket.remotePort ?? 0 });
  }

  private adopt(socket: Socket, peer: Peer): Connection {
    const conn: Connection = {
      id: this.nextId++,
      socket,
      peer: { ...peer },
      framer: new StreamFramer(this.opts.limits),
    };
    conn.peer.connectionId = conn.id;
    this.connections.set(conn.id, conn);
    this.byPeer.set(`${peer.address}:${peer.port}`, conn);
    this.perAddress.set(peer.address, (this.perAddress.get(peer.address) ?? 0) + 1);
    socket.setNoDelay(true);
    socket.setTimeout(this.opts.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (chunk) => this.onData(conn, chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.forget(conn));
    return conn;
  }

  private admitted(address: string, port: number, bytes: number): boolean {
    return this.opts.receiver.admit?.(address, port, 'TCP', bytes) ?? true;
  }

  private onData(conn: Connection, chunk: Buffer): void {
    if (!this.admitted(conn.peer.address, conn.peer.port, chunk.length)) {
      conn.socket.destroy();
      return;
    }
    let events;
    try {
      events = conn.framer.push(chunk);
    } catch (e) {
      this.opts.onError(e);
      conn.socket.destroy();
      return;
    }
    for (const ev of events) {
      try {
        if (ev.kind === 'message') this.opts.receiver.onMessage(ev.message, conn.peer, this);
        else if (ev.kind === 'ping') conn.socket.write('\r\n');
        else {
          this.opts.receiver.onParseError(ev.error, conn.peer, this, true);
          // Framing is lost: read nothing more, let answers to the messages before this one
          // (possibly still being worked on) go out, then close (RFC 4475 section 3.1.2.3).
          conn.socket.pause();
          setTimeout(() => conn.socket.end(), FATAL_GRACE_MS).unref();
          setTimeout(() => conn.socket.destroy(), FATAL_GRACE_MS + 1000).unref();
        }
      } catch (e) {
        this.opts.onError(e);
      }
    }
  }

  private forget(conn: Connection): void {
    if (this.connections.get(conn.id) !== conn) return;
    this.connections.delete(conn.id);
    const k = `${conn.peer.address}:${conn.peer.port}`;
    if (this.byPeer.get(k) === conn) this.byPeer.delete(k);
    const n = (this.perAddress.get(conn.peer.address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(conn.peer.address);
    else this.perAddress.set(conn.peer.address, n);
  }

  async send(data: Buffer, dest: Peer): Promise<void> {
    let conn = dest.connectionId !== undefined ? this.connections.get(dest.connectionId) : undefined;
    conn ??= this.byPeer.get(`${dest.address}:${dest.port}`);
    if (!conn || conn.socket.destroyed) conn = await this.open(dest);
    if (conn.socket.writableLength > this.opts.maxQueuedBytes) {
      conn.socket.destroy();
      throw new TransportError('peer is not reading');
    }
    conn.socket.write(data);
  }

  private open(dest: Peer): Promise<Connection> {
    if (isIP(dest.address) === 0)
      return Promise.reject(new TransportError('TCP destination must be an IP address'));
    if (this.connections.size >= this.opts.maxConnections) {
      return Promise.reject(new TransportError('too many connections'));
    }
    return new Promise((resolve, reject) => {
      const socket = connect({ host: dest.address, port: dest.port, localAddress: this.localAddress });
      // An unresponsive peer must not hold a connection attempt for the OS's minutes-long timeout.
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TransportError('connect timeout'));
      }, CONNECT_TIMEOUT_MS);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(this.adopt(socket, { protocol: 'TCP', address: dest.address, port: dest.port }));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new TransportError(e.message));
      });
    });
  }

  async close(): Promise<void> {
    for (const c of this.connections.values()) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
