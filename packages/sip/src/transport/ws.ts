/**
 * SIP over WebSocket (RFC 7118) for browser softphones (JsSIP, SIP.js): one SIP message per
 * WebSocket message (section 5), subprotocol `sip` required at the handshake (section 4.1).
 *
 * It has no listening socket of its own: the application's HTTP server hands it upgrade requests
 * for its path ({@link WsTransport.handleUpgrade}). A WebSocket client cannot be reached by a new
 * connection, so a response or request whose connection is gone fails with a transport error
 * (RFC 7118 section 5: the client keeps the connection; it re-registers after a reconnect).
 *
 * The pre-parse admission hook is asked before the handshake and for every message, as on TCP.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { DEFAULT_LIMITS, parseDatagram, type ParseLimits, SipMessageError } from '../parser.ts';
import { TransportError } from '../transaction/transaction.ts';
import type { ConnectionLimits } from './stream.ts';
import type { Peer, Transport, TransportReceiver } from './transport.ts';

/** Options; the connection limits are those of TCP (browsers send keep-alives within the idle time). */
export interface WsTransportOptions extends ConnectionLimits {
  receiver: TransportReceiver;
  /** The HTTP server's address and port (written into our Via and Contact). */
  address: string;
  port: number;
  /** 'WSS' when the HTTP server speaks TLS (or sits behind a TLS proxy). Default 'WS'. */
  protocol?: 'WS' | 'WSS';
  limits?: ParseLimits;
  onError?(err: unknown): void;
}

interface Connection {
  id: number;
  ws: WebSocket;
  peer: Peer;
  idle: NodeJS.Timeout;
}

export class WsTransport implements Transport {
  readonly protocol: 'WS' | 'WSS';
  readonly reliable = true;
  readonly localAddress: string;
  readonly localPort: number;
  private readonly wss: WebSocketServer;
  private readonly opts: Required<Omit<WsTransportOptions, 'onError' | 'protocol'>> & {
    onError(err: unknown): void;
  };
  private readonly connections = new Map<number, Connection>();
  private readonly perAddress = new Map<string, number>();
  /** Handshakes under way (counted against the limits too). */
  private upgrading = 0;
  private nextId = 1;
  private closed = false;

  constructor(opts: WsTransportOptions) {
    this.protocol = opts.protocol ?? 'WS';
    this.localAddress = opts.address;
    this.localPort = opts.port;
    this.opts = {
      limits: DEFAULT_LIMITS,
      idleTimeoutMs: 60_000,
      maxConnections: 10_000,
      maxConnectionsPerAddress: 100,
      maxQueuedBytes: 1024 * 1024,
      onError: () => {},
      ...opts,
    };
    this.opts.limits = opts.limits ?? DEFAULT_LIMITS;
    const limits = this.opts.limits;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      // A SIP message never exceeds the parser's limits; a bigger frame is refused by ws itself.
      maxPayload: limits.maxHeadBytes + limits.maxBodyBytes + 4,
      handleProtocols: (offered) => (offered.has('sip') ? 'sip' : false),
    });
  }

  /** Open connections (for tests and metrics). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Takes over an HTTP upgrade request for this transport's path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    const address = req.socket.remoteAddress ?? '';
    const port = req.socket.remotePort ?? 0;
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (this.closed || !(this.opts.receiver.admit?.(address, port, this.protocol, 0) ?? true)) {
      socket.destroy();
      return;
    }
    if (!offered.includes('sip')) {
      // RFC 7118 section 4.1: without the `sip` subprotocol this is not a SIP WebSocket client.
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (
      this.connections.size + this.upgrading >= this.opts.maxConnections ||
      (this.perAddress.get(address) ?? 0) >= this.opts.maxConnectionsPerAddress
    ) {
      socket.end(
        'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    this.upgrading++;
    let settled = false;
    const settle = () => {
      if (!settled) ((settled = true), this.upgrading--);
    };
    socket.once('close', settle);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      settle();
      this.adopt(ws, { protocol: this.protocol, address, port });
    });
  }

  private adopt(ws: WebSocket, peer: Peer): void {
    const id = this.nextId++;
    const conn: Connection = {
      id,
      ws,
      peer: { ...peer, connectionId: id },
      idle: setTimeout(() => ws.terminate(), this.opts.idleTimeoutMs),
    };
    conn.idle.unref();
    this.connections.set(id, conn);
    this.perAddress.set(peer.address, (this.perAddress.get(peer.address) ?? 0) + 1);
    ws.on('message', (data, isBinary) => this.onMessage(conn, data as Buffer, isBinary));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => this.forget(conn));
  }

  private onMessage(conn: Connection, data: Buffer, _isBinary: boolean): void {
    conn.idle.refresh();
    const { receiver } = this.opts;
    if (!(receiver.admit?.(conn.peer.address, conn.peer.port, this.protocol, data.length) ?? true)) {
      conn.ws.terminate();
      return;
    }
    // A message of only CRLFs is a keep-alive (RFC 5626 section 3.5.1 style); some clients send it.
    if (data.length <= 4 && data.every((b) => b === 13 || b === 10)) return;
    let msg;
    try {
      msg = parseDatagram(data, this.opts.limits);
    } catch (e) {
      if (e instanceof SipMessageError) {
        try {
          receiver.onParseError(e, conn.peer, this, false);
        } catch (err) {
          this.opts.onError(err);
        }
      } else this.opts.onError(e);
      return;
    }
    try {
      receiver.onMessage(msg, conn.peer, this);
    } catch (err) {
      this.opts.onError(err);
    }
  }

  private forget(conn: Connection): void {
    if (this.connections.get(conn.id) !== conn) return;
    clearTimeout(conn.idle);
    this.connections.delete(conn.id);
    const n = (this.perAddress.get(conn.peer.address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(conn.peer.address);
    else this.perAddress.set(conn.peer.address, n);
  }

  /** Sends on the connection `dest` names; a WebSocket client cannot be called back. */
  send(data: Buffer, dest: Peer): void {
    const conn = dest.connectionId !== undefined ? this.connections.get(dest.connectionId) : undefined;
    if (!conn || conn.ws.readyState !== conn.ws.OPEN)
      throw new TransportError('WebSocket connection is gone');
    if (conn.ws.bufferedAmount > this.opts.maxQueuedBytes) {
      conn.ws.terminate();
      throw new TransportError('peer is not reading');
    }
    // SIP is text; browsers' SIP stacks expect text frames (RFC 7118 section 5).
    conn.ws.send(data, { binary: false });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.connections.values()) c.ws.close(1001, 'going away');
    for (const c of [...this.connections.values()]) {
      clearTimeout(c.idle);
      c.ws.terminate();
    }
    this.connections.clear();
    this.perAddress.clear();
  }
}
