/**
 * What one client may hold at the HTTP edge, so slow or greedy clients cannot starve the others:
 *
 * - **Connections per source address** (and in all). Counted on the TCP `connection` event, before any
 *   byte is parsed, so half-open connections that never send a request count too; WebSocket connections
 *   stay counted after the upgrade. One over the cap is answered with a coded 429 (503 past the total) and
 *   closed.
 * - **Bytes of unfinished request bodies**, process-wide and per source address. A body is counted at its
 *   declared length (the route's body limit when chunked) from the moment its headers arrive until its
 *   request ends, so a thousand bodies trickling in a byte at a time cannot make the server hold a
 *   thousand buffers: past the budget a request is answered at once (503, or 429 for the address) and
 *   its connection closed, without reading the body.
 *
 * The header, request and idle timeouts that end slow clients are Node's own (`headersTimeout`,
 * `requestTimeout`, `keepAliveTimeout`); see `buildHttp`.
 */
import type { Server, Socket } from 'node:net';
import { ParleyError } from '@parley/protocol';

export interface EdgeLimits {
  maxConnectionsPerAddress: number;
  maxConnections: number;
  bodyBudget: number;
  bodyBudgetPerAddress: number;
}

/** The client's address as counted: IPv4-mapped IPv6 (`::ffff:127.0.0.2`) folded to its IPv4 form. */
export function sourceAddress(socket: Pick<Socket, 'remoteAddress'>): string {
  const a = socket.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/**
 * Writes a complete HTTP/1.1 error response with the API's error shape on a raw socket (no request has
 * been parsed, or the parser gave up) and closes it: at once for our side, and a second later whatever
 * the client does (nothing more it sends is read).
 */
export function refuseRaw(socket: Socket, err: ParleyError, reason: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(err.toBody());
  socket.end(
    `HTTP/1.1 ${err.status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n` +
      (err.retryAfter ? `Retry-After: ${err.retryAfter}\r\n` : '') +
      `\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** Counts open connections per source address on `server` and refuses those over the caps. */
export function capConnections(server: Server, limits: EdgeLimits): { open(address: string): number } {
  const perAddress = new Map<string, number>();
  let total = 0;
  // Node's HTTP server gives every socket a parser in its own `connection` listener. Those listeners are
  // moved behind this gate, so a refused socket never gets one: nothing it sends is parsed or handled.
  const inner = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const address = sourceAddress(socket);
    const mine = perAddress.get(address) ?? 0;
    const refusal =
      total >= limits.maxConnections
        ? new ParleyError('unavailable', 'the server holds as many connections as it may; retry', {
            retryAfter: 1,
          })
        : mine >= limits.maxConnectionsPerAddress
          ? new ParleyError(
              'too_many_connections',
              `this address holds ${mine} open connections, the most it may; close one first`,
              { retryAfter: 1 },
            )
          : null;
    if (refusal) {
      refuseRaw(socket, refusal, refusal.status === 429 ? 'Too Many Requests' : 'Service Unavailable');
      return;
    }
    total++;
    perAddress.set(address, mine + 1);
    socket.once('close', () => {
      total--;
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n === 0) perAddress.delete(address);
      else perAddress.set(address, n);
    });
    for (const listener of inner) listener.call(server, socket);
  });
  return { open: (address) => perAddress.get(address) ?? 0 };
}

/** Bytes of unfinished request bodies, process-wide and per source address. */
export class BodyBudget {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly limits: Pick<EdgeLimits, 'bodyBudget' | 'bodyBudgetPerAddress'>) {}

  /**
   * Reserves `bytes` for a body from `address`; resolves to the function that gives them back, or throws
   * the coded refusal. `perAddress: false` for routes that admit the caller before reading the body (a
   * signed-in operator's rate-deck import is larger than one address's share).
   */
  reserve(address: string, bytes: number, perAddress: boolean): () => void {
    const mine = this.perAddress.get(address) ?? 0;
    // The address's own share first: a greedy client is told it is the one over its share.
    if (perAddress && mine + bytes > this.limits.bodyBudgetPerAddress)
      throw new ParleyError(
        'rate_limited',
        'this address is sending as many request bodies at once as it may; finish one first',
        { retryAfter: 1 },
      );
    if (this.total + bytes > this.limits.bodyBudget)
      throw new ParleyError(
        'unavailable',
        'the server is receiving as many request bodies as it may; retry',
        {
          retryAfter: 1,
        },
      );
    this.total += bytes;
    this.perAddress.set(address, mine + bytes);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= bytes;
      const n = (this.perAddress.get(address) ?? bytes) - bytes;
      if (n <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, n);
    };
  }

  /** Bytes reserved now (for tests and metrics). */
  get reserved(): number {
    return this.total;
  }
}
