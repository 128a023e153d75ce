/**
 * The process-wide bound on realtime bytes queued in memory: what connections' streams hold because
 * their peers read slower than the server writes. Each connection is also bounded on its own
 * (`maxBufferedBytes`), but many slow connections below that bound could still hold the process's
 * memory; past `maxBytes` in total, the connections with the most queued (the slowest consumers) are cut
 * first until the total is back under the bound.
 *
 * Cheap on the fan-out path: a write costs reading one stream's `writableLength`. Each connection's
 * last reading is kept; readings go stale only downwards (a queue drains between writes, never grows
 * without one), so the running total can only overstate, and an exact recount over the connections
 * that had a queue happens only when the total passes the bound.
 */
import type { Duplex } from 'node:stream';

/** A connection as the bound sees it. */
export interface QueuedConnection {
  /** Bytes queued at the last reading (kept on the connection; the bound owns it). */
  queued: number;
  readonly conn: { readonly stream: Duplex };
  /** Drops the connection (a slow consumer). */
  cut(): void;
}

export class QueuedBytes {
  private total = 0;
  private readonly backlogged = new Set<QueuedConnection>();

  constructor(private readonly maxBytes: number) {}

  /** Bytes queued across connections, as last read (an upper bound). */
  get bytes(): number {
    return this.total;
  }

  /** Call after each write to `c`'s stream. */
  wrote(c: QueuedConnection): void {
    const now = c.conn.stream.writableLength;
    this.total += now - c.queued;
    c.queued = now;
    if (now > 0) this.backlogged.add(c);
    else this.backlogged.delete(c);
    if (this.total > this.maxBytes) this.enforce();
  }

  /** The connection closed: its queue is freed with it. */
  forget(c: QueuedConnection): void {
    this.total -= c.queued;
    c.queued = 0;
    this.backlogged.delete(c);
  }

  private enforce(): void {
    this.total = 0;
    for (const c of this.backlogged) {
      c.queued = c.conn.stream.writableLength;
      if (c.queued === 0) this.backlogged.delete(c);
      else this.total += c.queued;
    }
    if (this.total <= this.maxBytes) return;
    const slowestFirst = [...this.backlogged].sort((a, b) => b.queued - a.queued);
    for (const c of slowestFirst) {
      if (this.total <= this.maxBytes) break;
      this.forget(c);
      c.cut();
    }
  }
}
