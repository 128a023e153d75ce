/**
 * Live delivery: chat bus events (published after commit, on any node) pushed to this node's realtime
 * sessions of the conversation's current members. Each push is serialized and framed once for all
 * recipients (wire-frame.ts); delivering costs one socket write per online device. Member lists are
 * cached per conversation and dropped when membership changes (a `chat.conversation` bus event).
 * Typing indicators are ended here, per node, when no repeat comes in time (typing.ts).
 */
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.ts';
import { trustedScope } from '../directory/scope.ts';
import { jsonFrame } from '../realtime/wire-frame.ts';
import type { ConversationStore } from './conversations.ts';
import { SeqOrder } from './seq-order.ts';
import { realClock, TypingTracker, type TypingClock, type TypingKey } from './typing.ts';

/** What delivery needs of a realtime session. */
export interface ChatSession {
  readonly tenantId: string;
  sendWire(wire: Buffer): void;
}

/** What delivery needs of the realtime hub. */
export interface SessionDirectory {
  sessionsOf(userId: string): Iterable<ChatSession>;
}

export class ChatDelivery {
  private readonly members = new Map<string, Promise<string[]>>();
  private readonly unsubscribe: Array<() => void> = [];
  private sessions: SessionDirectory = { sessionsOf: () => [] };
  /** Typing indicators showing, each ended by a "stopped" push (expiry, a stop, or the typist's message). */
  readonly typing: TypingTracker;
  /** New messages pushed in seq order per conversation, whatever order their commits' events came in. */
  readonly order: SeqOrder;
  /** Pushes written (one per recipient device), for the benchmark and tests. */
  delivered = 0;

  constructor(
    bus: Bus,
    private readonly conversations: Pick<ConversationStore, 'memberIds'>,
    private readonly log: Logger,
    orderWaitMs: number,
    clock: TypingClock = realClock,
  ) {
    const stopped = (k: TypingKey) =>
      this.push(
        k.tenantId,
        k.conversationId,
        { t: 'chat.typing', conversationId: k.conversationId, userId: k.userId, typing: false, ttlMs: 0 },
        k.userId,
      );
    this.typing = new TypingTracker(stopped, clock);
    this.order = new SeqOrder(orderWaitMs, clock);
    this.unsubscribe.push(
      bus.subscribe('chat.message', (e) => {
        // Their message ends the sender's indicator before it is shown.
        if (e.change === 'new')
          this.typing.stop({
            tenantId: e.tenantId,
            conversationId: e.message.conversationId,
            userId: e.message.senderId,
          });
        const push = () =>
          this.push(e.tenantId, e.message.conversationId, {
            t: 'chat.message',
            change: e.change,
            message: e.message,
          });
        if (e.change === 'new') this.order.deliver(e.message.conversationId, e.message.seq, push);
        else push();
      }),
      bus.subscribe('chat.typing', (e) => {
        const k = { tenantId: e.tenantId, conversationId: e.conversationId, userId: e.userId };
        if (!e.typing) return this.typing.stop(k);
        this.typing.typing(k, e.ttlMs);
        this.push(
          e.tenantId,
          e.conversationId,
          {
            t: 'chat.typing',
            conversationId: e.conversationId,
            userId: e.userId,
            typing: true,
            ttlMs: e.ttlMs,
          },
          e.userId,
        );
      }),
      bus.subscribe('chat.receipt', (e) =>
        this.push(e.tenantId, e.conversationId, {
          t: 'chat.receipt',
          conversationId: e.conversationId,
          userId: e.userId,
          readSeq: e.readSeq,
          deliveredSeq: e.deliveredSeq,
        }),
      ),
      bus.subscribe('chat.conversation', (e) => {
        if (e.change === 'members') this.members.delete(e.conversationId);
        this.push(e.tenantId, e.conversationId, {
          t: 'chat.conversation',
          conversationId: e.conversationId,
          change: e.change,
        });
      }),
    );
  }

  /** Starts pushing to the realtime hub's sessions (the hub is built after chat, which answers its frames). */
  attach(sessions: SessionDirectory): void {
    this.sessions = sessions;
  }

  /** The current members of a conversation (cached until its membership changes). */
  memberIds(tenantId: string, conversationId: string): Promise<string[]> {
    let p = this.members.get(conversationId);
    if (!p) {
      p = this.conversations.memberIds(trustedScope(tenantId), conversationId);
      this.members.set(conversationId, p);
      p.catch(() => this.members.delete(conversationId));
      if (this.members.size > 20_000) this.members.delete(this.members.keys().next().value!);
    }
    return p;
  }

  private push(tenantId: string, conversationId: string, frame: object, except?: string): void {
    this.memberIds(tenantId, conversationId)
      .then((ids) => {
        let wire: Buffer | null = null;
        for (const userId of ids) {
          if (userId === except) continue;
          for (const s of this.sessions.sessionsOf(userId)) {
            if (s.tenantId !== tenantId) continue;
            wire ??= jsonFrame(frame);
            s.sendWire(wire);
            this.delivered++;
          }
        }
      })
      .catch((err: unknown) => this.log.error({ err, conversationId }, 'chat delivery failed'));
  }

  close(): void {
    this.typing.close();
    this.order.close();
    this.unsubscribe.forEach((u) => u());
  }
}
