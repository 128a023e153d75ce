/**
 * The realtime gateway: the server's WebSocket endpoint (`/api/realtime`). A connection is authenticated
 * at the upgrade with an access token (`Authorization: Bearer`, or `?access_token=` where a browser
 * cannot set headers) and belongs to one user and session. Revoking the session or disabling the user
 * closes it at once (bus events from this process; a periodic re-check catches changes made by other
 * processes sharing the database). Protocol handling is attached by `onConnection`.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { ParleyError, RealtimeCloseCodes } from '@parley/protocol';
import type { AuthService } from '../auth/auth-service.ts';
import type { Principal } from '../auth/principal.ts';
import type { Bus } from '../bus/bus.ts';

/** WebSocket close codes (4000-4999 are the application's): the protocol package's, which clients read. */
export const CloseCodes = RealtimeCloseCodes;

const statusText: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  429: 'Too Many Requests',
};

export interface RealtimeConnection {
  readonly id: number;
  readonly principal: Principal;
  readonly socket: WebSocket;
  /** The upgraded TCP stream under `socket`, for writing pre-framed pushes (see wire-frame.ts). */
  readonly stream: Duplex;
}

export interface GatewayOptions {
  path: string;
  maxPayload: number;
  sessionRecheckMs: number;
  /** Connections one user may hold on this server; the next upgrade is refused (429 too_many_connections). */
  maxPerUser: number;
}

/** Takes over an HTTP upgrade request. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export class RealtimeGateway {
  private readonly wss: WebSocketServer;
  private readonly otherUpgrades = new Map<string, UpgradeHandler>();
  private readonly byUser = new Map<string, Set<RealtimeConnection>>();
  /** Upgrades of each user between the cap check and `accept` (handleUpgrade may complete later). */
  private readonly upgrading = new Map<string, number>();
  private readonly all = new Set<RealtimeConnection>();
  private readonly unsubscribe: Array<() => void> = [];
  private recheck: NodeJS.Timeout | undefined;
  private nextId = 1;
  private handlers: Array<(c: RealtimeConnection) => void> = [];

  constructor(
    private readonly auth: Pick<AuthService, 'authenticate' | 'sessionLive'>,
    bus: Bus,
    private readonly log: Logger,
    private readonly opts: GatewayOptions,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxPayload,
      clientTracking: false,
      // Pinned off, not left to the default: pushes are pre-framed and written to the raw stream
      // (wire-frame.ts), which is only valid while no extension transforms frames (RFC 7692 §6 sets RSV1).
      perMessageDeflate: false,
    });
    this.unsubscribe.push(
      bus.subscribe('user.disabled', (e) =>
        this.closeWhere((c) => c.principal.id === e.userId, CloseCodes.sessionRevoked, 'user disabled'),
      ),
      bus.subscribe('tenant.suspended', (e) =>
        this.closeWhere(
          (c) => c.principal.tenantId === e.tenantId,
          CloseCodes.sessionRevoked,
          'organisation suspended',
        ),
      ),
      bus.subscribe('session.revoked', (e) =>
        this.closeWhere(
          (c) => c.principal.sessionId === e.sessionId,
          CloseCodes.sessionRevoked,
          'session revoked',
        ),
      ),
    );
  }

  /** Registers protocol handling for each new authenticated connection. */
  onConnection(handler: (c: RealtimeConnection) => void): void {
    this.handlers.push(handler);
  }

  /**
   * Hands upgrades for another path to another WebSocket service on the same HTTP server (SIP over
   * WebSocket at /sip): the gateway owns the server's `upgrade` event and 404s unknown paths.
   */
  serveUpgrades(path: string, handler: UpgradeHandler): void {
    this.otherUpgrades.set(path, handler);
  }

  attach(server: Server): void {
    server.on('upgrade', (req, socket, head) => void this.upgrade(req, socket, head));
    this.recheck = setInterval(() => void this.recheckSessions(), this.opts.sessionRecheckMs);
    this.recheck.unref();
  }

  connectionsOf(userId: string): ReadonlySet<RealtimeConnection> {
    return this.byUser.get(userId) ?? new Set();
  }

  get size(): number {
    return this.all.size;
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== this.opts.path) {
      const other = this.otherUpgrades.get(url.pathname);
      if (other) return other(req, socket, head);
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const h = req.headers.authorization;
    const token = h && /^bearer /i.test(h) ? h.slice(7).trim() : url.searchParams.get('access_token');
    let principal: Principal;
    try {
      if (!token) throw new ParleyError('unauthorized', 'no access token');
      principal = await this.auth.authenticate(token);
      if (principal.kind !== 'user') throw new ParleyError('forbidden', 'realtime connections are for users');
      const held = (this.byUser.get(principal.id)?.size ?? 0) + (this.upgrading.get(principal.id) ?? 0);
      if (held >= this.opts.maxPerUser)
        throw new ParleyError(
          'too_many_connections',
          `a user may hold at most ${this.opts.maxPerUser} realtime connections`,
          { retryAfter: 5 },
        );
    } catch (err) {
      const e = err instanceof ParleyError ? err : new ParleyError('unauthorized', 'not authenticated');
      const body = JSON.stringify(e.toBody());
      socket.end(
        `HTTP/1.1 ${e.status} ${statusText[e.status] ?? 'Unauthorized'}\r\nConnection: close\r\n` +
          (e.retryAfter ? `Retry-After: ${e.retryAfter}\r\n` : '') +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    socket.on('error', () => {});
    const uid = principal.id;
    this.upgrading.set(uid, (this.upgrading.get(uid) ?? 0) + 1);
    const settled = () => {
      const n = (this.upgrading.get(uid) ?? 1) - 1;
      if (n > 0) this.upgrading.set(uid, n);
      else this.upgrading.delete(uid);
    };
    // A handshake that fails (bad headers, the peer gone) never reaches the callback: release its slot.
    socket.once('close', settled);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', settled);
      settled();
      this.accept(ws, socket, principal);
    });
  }

  private accept(socket: WebSocket, stream: Duplex, principal: Principal): void {
    const conn: RealtimeConnection = { id: this.nextId++, principal, socket, stream };
    this.all.add(conn);
    let set = this.byUser.get(principal.id);
    if (!set) this.byUser.set(principal.id, (set = new Set()));
    set.add(conn);
    socket.on('error', (err) => this.log.debug({ err, conn: conn.id }, 'realtime socket error'));
    socket.on('close', () => {
      this.all.delete(conn);
      const s = this.byUser.get(principal.id);
      s?.delete(conn);
      if (s && s.size === 0) this.byUser.delete(principal.id);
    });
    for (const h of this.handlers) {
      try {
        h(conn);
      } catch (err) {
        this.log.error({ err }, 'realtime connection handler failed');
        socket.close(1011, 'internal error');
      }
    }
  }

  private closeWhere(pred: (c: RealtimeConnection) => boolean, code: number, reason: string): void {
    for (const c of this.all) if (pred(c)) c.socket.close(code, reason);
  }

  private async recheckSessions(): Promise<void> {
    const sessions = new Set<string>();
    for (const c of this.all) if (c.principal.sessionId) sessions.add(c.principal.sessionId);
    for (const sid of sessions) {
      try {
        if (!(await this.auth.sessionLive(sid)))
          this.closeWhere((c) => c.principal.sessionId === sid, CloseCodes.sessionRevoked, 'session ended');
      } catch (err) {
        this.log.warn({ err }, 'session re-check failed');
        return;
      }
    }
  }

  /** Closes every connection (going away) and stops. */
  async close(): Promise<void> {
    clearInterval(this.recheck);
    this.unsubscribe.forEach((u) => u());
    for (const c of this.all) c.socket.close(CloseCodes.goingAway, 'server shutting down');
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
