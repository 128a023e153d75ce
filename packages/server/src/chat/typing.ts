/**
 * Typing indicators that end on their own. A client repeats `chat.typing` while its user types; when no
 * repeat comes within the TTL (PARLEY_CHAT_TYPING_TTL_MS), or the user says they stopped, or their
 * message arrives, the server pushes "stopped typing" (`typing: false`) itself, so an indicator never
 * sticks because a client went away mid-word. Nothing is stored or replayed: the state is timers in
 * memory.
 *
 * Every node keeps its own timers from the bus events it receives and tells its own sessions, so a
 * stop does not depend on the typist's node staying up. The clock is injectable for tests.
 */

/** What the tracker needs of a clock (setTimeout by default). */
export interface TypingClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: TypingClock = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface TypingKey {
  tenantId: string;
  conversationId: string;
  userId: string;
}

export class TypingTracker {
  private readonly live = new Map<string, { key: TypingKey; timer: unknown }>();

  /** `stopped` is called once per indicator that ends (expired, stopped, or the typist's message came). */
  constructor(
    private readonly stopped: (k: TypingKey) => void,
    private readonly clock: TypingClock = realClock,
  ) {}

  /** Someone is (still) typing: (re)starts the countdown. */
  typing(k: TypingKey, ttlMs: number): void {
    const id = keyOf(k);
    const prev = this.live.get(id);
    if (prev) this.clock.clearTimeout(prev.timer);
    const timer = this.clock.setTimeout(() => this.end(id), ttlMs);
    this.live.set(id, { key: k, timer });
  }

  /** The typist stopped (an explicit stop, or their message): ends the indicator if it is showing. */
  stop(k: TypingKey): void {
    const id = keyOf(k);
    const prev = this.live.get(id);
    if (!prev) return;
    this.clock.clearTimeout(prev.timer);
    this.end(id);
  }

  /** Whether an indicator is showing (tests). */
  isTyping(k: TypingKey): boolean {
    return this.live.has(keyOf(k));
  }

  private end(id: string): void {
    const e = this.live.get(id);
    if (!e) return;
    this.live.delete(id);
    this.stopped(e.key);
  }

  /** Drops every timer without announcing (the server is stopping). */
  close(): void {
    for (const e of this.live.values()) this.clock.clearTimeout(e.timer);
    this.live.clear();
  }
}

const keyOf = (k: TypingKey) => `${k.tenantId} ${k.conversationId} ${k.userId}`;
