/**
 * New messages of each conversation pushed in `seq` order. Concurrent sends to one conversation take
 * their seqs in commit order (the head update's row lock), but each send publishes after its own COMMIT
 * returns, and on PostgreSQL those returns come over different connections: message 23's event can reach
 * the bus after 24's and 25's. Devices would then show the conversation out of order until a reload.
 *
 * So delivery holds a message whose predecessor has not been pushed yet, and pushes the run once the gap
 * fills. A gap that does not fill within the wait (the predecessor's sender crashed after its commit, or
 * its event went to a node that died) is given up: the held messages go out in order and the client reads
 * the missing one from history when it sees the jump (its resume cursor covers it). The first message a
 * node sees of a conversation is pushed at once: there is nothing to wait for.
 *
 * ```
 *   seq = next ──▶ push, then every held seq that now follows
 *   seq < next ──▶ push (a late one after a given-up gap, or a repeat)
 *   seq > next ──▶ hold; the first hold starts the wait ──▶ expiry: push all held in order, next = last+1
 * ```
 */
import type { TypingClock } from './typing.ts';

interface Lane {
  next: number;
  held: Map<number, () => void>;
  timer: unknown;
}

export class SeqOrder {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly waitMs: number,
    private readonly clock: TypingClock,
    /** Most conversations tracked; the least recently used beyond it is flushed and forgotten. */
    private readonly maxLanes = 20_000,
  ) {}

  /** Runs `push` now or once every lower seq of the conversation has been pushed (or waited for). */
  deliver(conversationId: string, seq: number, push: () => void): void {
    let lane = this.lanes.get(conversationId);
    if (lane) {
      this.lanes.delete(conversationId); // re-inserted below: the map's order is recency
    } else {
      lane = { next: seq, held: new Map(), timer: null };
      if (this.lanes.size >= this.maxLanes) this.forget(this.lanes.keys().next().value!);
    }
    this.lanes.set(conversationId, lane);
    if (seq < lane.next) return push();
    if (seq > lane.next) {
      lane.held.set(seq, push);
      lane.timer ??= this.clock.setTimeout(() => this.giveUp(conversationId), this.waitMs);
      return;
    }
    push();
    lane.next = seq + 1;
    this.drain(lane);
  }

  /** How many messages are waiting for an earlier one (tests). */
  get waiting(): number {
    let n = 0;
    for (const l of this.lanes.values()) n += l.held.size;
    return n;
  }

  close(): void {
    for (const id of [...this.lanes.keys()]) this.forget(id);
  }

  private drain(lane: Lane): void {
    for (let p = lane.held.get(lane.next); p; p = lane.held.get(lane.next)) {
      lane.held.delete(lane.next);
      lane.next++;
      p();
    }
    if (lane.held.size === 0 && lane.timer !== null) {
      this.clock.clearTimeout(lane.timer);
      lane.timer = null;
    }
  }

  private giveUp(conversationId: string): void {
    const lane = this.lanes.get(conversationId);
    if (!lane) return;
    lane.timer = null;
    lane.next = Math.min(...lane.held.keys());
    this.drain(lane);
    // A second gap further on waits its own turn.
    if (lane.held.size) lane.timer = this.clock.setTimeout(() => this.giveUp(conversationId), this.waitMs);
  }

  private forget(conversationId: string): void {
    const lane = this.lanes.get(conversationId)!;
    this.lanes.delete(conversationId);
    if (lane.timer !== null) this.clock.clearTimeout(lane.timer);
    for (const seq of [...lane.held.keys()].sort((a, b) => a - b)) lane.held.get(seq)!();
  }
}
