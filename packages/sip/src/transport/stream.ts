/**
 * SIP over a byte stream, TCP or TLS (RFC 3261 section 18): messages framed by Content-Length, CRLF
 * keep-alives answered (RFC 5626 section 4.4.1), idle connections closed, buffers and connection
 * counts bounded. Responses go back on the connection the request came in on (section 18.2.2); when
 * it is gone, a new connection is opened to the destination given, which for a response is the
 * source address at the Via sent-by port (response-route.ts), never a name from the message.
 *
 * TCP and TLS differ only in how sockets are made ({@link StreamSockets}); see tcp.ts and tls.ts.
 */
import { isIP, type Server, type Socket } from 'node:net';
import { DEFAULT_LIMITS, type ParseLimits } from '../parser.ts';
import { StreamFramer } from '../stream-framer.ts';
import { TransportError } from '../transaction/transaction.ts';
import type { Peer, Transport, TransportReceiver } from './transport.ts';

/** How one stream transport makes its listening server and outgoing sockets. */
export interface StreamSockets {
  readonly protocol: 'TCP' | 'TLS';
  /** A server calling `onSocket` for each accepted connection (after the handshake, for TLS). */
  createServer(onSocket: (socket: Socket) => void): Server;
  /** An outgoing socket; `ready` is the event that says it may carry SIP. */
  connect(dest: Peer, localAddress: string): Socket;
  readonly ready: 'connect' | 'secureConnect';
  /** Whether accepted sockets pass a handshake first (TLS): admission is then asked before it. */
  readonly handshake?: boolean;
}

/** Bounds every connection-oriented transport (TCP, TLS, WebSocket) keeps. */
export interface ConnectionLimits {
  /** Close a connection after this long without traffic. Default 60 s. */
  idleTimeoutMs?: number;
  /** Connections at once, in and out. Default 10,000. */
  maxConnections?: number;
  /** Connections at once from one address. Default 100. */
  maxConnectionsPerAddress?: number;
  /** Close a connection whose peer does not read once this much is queued. Default 1 MiB. */
  maxQueuedBytes?: number;
}

export interface StreamTransportOptions extends ConnectionLimits {
  address: string;
  port: number;
  receiver: TransportReceiver;
  limits?: ParseLimits;
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

export class StreamTransport implements Transport {
  readonly protocol: 'TCP' | 'TLS';
  readonly reliable = true;
  readonly localAddress: string;
  localPort = 0;
  private readonly server: Server;
  private readonly sockets: StreamSockets;
  private readonly opts: Required<Omit<StreamTransportOptions, 'onError'>> & { onError(err: unknown): void };
  private readonly connections = new Map<number, Connection>();
  private readonly byPeer = new Map<string, Connection>();
  private readonly perAddress = new Map<string, number>();
  private nextId = 1;

  protected constructor(sockets: StreamSockets, opts: StreamTransportOptions) {
    this.sockets = sockets;
    this.protocol = sockets.protocol;
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
    this.server = sockets.createServer((socket) => this.accept(socket));
    this.server.on('error', (e) => this.opts.onError(e));
    // Sockets still in a TLS handshake count too: the kernel-level cap bounds them all.
    this.server.maxConnections = this.opts.maxConnections;
    if (sockets.handshake) {
      // Admission before the handshake, so a refused source costs no TLS work.
      this.server.prependListener('connection', (raw: Socket) => {
        if (!this.admissible(raw)) raw.destroy();
      });
    }
  }

  /** Whether a new connection may stay: admission hook and connection limits. */
  private admissible(socket: Socket): boolean {
    const address = socket.remoteAddress ?? '';
    return (
      this.connections.size < this.opts.maxConnections &&
      (this.perAddress.get(address) ?? 0) < this.opts.maxConnectionsPerAddress &&
      this.admitted(address, socket.remotePort ?? 0, 0)
    );
  }

  /** Starts listening on the configured address and port (0 picks a free port). */
  protected async start(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.localAddress, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const a = this.server.address();
    this.localPort = typeof a === 'object' && a ? a.port : port;
  }

  /** Open connections (for tests and metrics). */
  get connectionCount(): number {
    return this.connections.size;
  }

  private accept(socket: Socket): void {
    const address = socket.remoteAddress ?? '';
    // After a handshake the admission hook has already been asked; the limits are checked again.
    const ok = this.sockets.handshake
      ? this.connections.size < this.opts.maxConnections &&
        (this.perAddress.get(address) ?? 0) < this.opts.maxConnectionsPerAddress
      : this.admissible(socket);
    if (!ok) {
      socket.destroy();
      return;
    }
    this.adopt(socket, { protocol: this.protocol, address, port: socket.remotePort ?? 0 });
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
    return this.opts.receiver.admit?.(address, port, this.protocol, bytes) ?? true;
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
      return Promise.reject(new TransportError(`${this.protocol} destination must be an IP address`));
    if (this.connections.size >= this.opts.maxConnections) {
      return Promise.reject(new TransportError('too many connections'));
    }
    return new Promise((resolve, reject) => {
      const socket = this.sockets.connect(dest, this.localAddress);
      // An unresponsive peer must not hold a connection attempt for the OS's minutes-long timeout.
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TransportError('connect timeout'));
      }, CONNECT_TIMEOUT_MS);
      socket.once(this.sockets.ready, () => {
        clearTimeout(timer);
        resolve(this.adopt(socket, { protocol: this.protocol, address: dest.address, port: dest.port }));
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
