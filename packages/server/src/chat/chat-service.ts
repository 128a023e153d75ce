/**
 * Chat's one entry point for the HTTP routes and the realtime socket: it runs the store operations and
 * announces what changed. The per-user durable events (membership, mentions, your own read position) are
 * written in the same transaction as the change they describe (`AlsoInTx`), so a crash keeps both or
 * neither; after the commit they and the `chat.*` bus events (live pushes to online devices) go out.
 */
import type { Logger } from 'pino';
import {
  ParleyError,
  type ChatWelcome,
  type ClientFrame,
  type Conversation,
  type Message,
  type ResultOf,
  type SendMessageRequest,
} from '@parley/protocol';
import type { Bus } from '../bus/bus.ts';
import type { EventLog, StagedEvents } from '../realtime/event-log.ts';
import { trustedScope, type TenantScope } from '../directory/scope.ts';
import type { ConversationStore, MembershipChange } from './conversations.ts';
import type { AlsoInTx } from './write-queue.ts';
import type { SendResult, Timeline } from './timeline.ts';
import type { Receipts } from './receipts.ts';
import type { SendThrottle } from './send-throttle.ts';

export interface ChatServiceLimits {
  /** How long a typing indicator shows without a repeat, ms. */
  typingTtlMs: number;
  /** How far back of the previous cursor `welcome.chat.changed` looks (commit-order and clock skew), ms. */
  resumeMarginMs: number;
}

export interface ChatServiceDeps {
  conversations: ConversationStore;
  timeline: Timeline;
  receipts: Receipts;
  throttle: SendThrottle;
  bus: Pick<Bus, 'publish'>;
  events: Pick<EventLog, 'stage' | 'publish'>;
  /** Current members of a conversation, cached (delivery's cache). */
  memberIds(tenantId: string, conversationId: string): Promise<string[]>;
  log: Logger;
  limits: ChatServiceLimits;
  now?: () => number;
}

/** The chat frames a realtime session hands over. */
export type ChatFrame = Extract<ClientFrame, { t: 'chat.send' | 'chat.typing' | 'chat.read' }>;

export class ChatService {
  private readonly now: () => number;

  constructor(private readonly d: ChatServiceDeps) {
    this.now = d.now ?? Date.now;
  }

  async createConversation(
    scope: TenantScope,
    userId: string,
    input: { members: string[]; title?: string; kind?: 'direct' | 'group' },
  ): Promise<{ conversation: Conversation; created: boolean }> {
    const events = this.membershipEvents(scope);
    const r = await this.d.conversations.create(scope, userId, input, events.also);
    this.announce(scope, r.id, events.staged, r.changes.length > 0 || !r.created);
    return { conversation: await this.d.conversations.get(scope, userId, r.id), created: r.created };
  }

  async rename(scope: TenantScope, userId: string, id: string, title: string | null): Promise<Conversation> {
    await this.d.conversations.rename(scope, userId, id, title);
    this.d.bus.publish('chat.conversation', {
      tenantId: scope.tenantId,
      conversationId: id,
      change: 'renamed',
    });
    return this.d.conversations.get(scope, userId, id);
  }

  async addMember(scope: TenantScope, actorId: string, id: string, userId: string): Promise<Conversation> {
    const events = this.membershipEvents(scope);
    const change = await this.d.conversations.addMember(scope, actorId, id, userId, events.also);
    if (change) this.announce(scope, id, events.staged, true);
    return this.d.conversations.get(scope, actorId, id);
  }

  async removeMember(scope: TenantScope, actorId: string, id: string, userId: string): Promise<void> {
    const events = this.membershipEvents(scope);
    const change = await this.d.conversations.removeMember(scope, actorId, id, userId, events.also);
    // The departed get the change in their own log; the remaining members a push.
    if (change) this.announce(scope, id, events.staged, true);
  }

  /**
   * The membership events of a change, written in its transaction: one event per kind of change,
   * appended to the logs of the users concerned (a new 1,000-member group is one event in 999 logs).
   * `staged` holds what the last attempt wrote (a transaction retried after a lost race writes anew).
   */
  private membershipEvents(scope: TenantScope): {
    also: AlsoInTx<MembershipChange[]>;
    staged: StagedEvents[];
  } {
    const staged: StagedEvents[] = [];
    const also: AlsoInTx<MembershipChange[]> = async (tx, changes) => {
      staged.length = 0;
      const groups = new Map<string, MembershipChange[]>();
      for (const c of changes) {
        const key = `${c.change} ${c.by ?? ''}`;
        groups.set(key, [...(groups.get(key) ?? []), c]);
      }
      for (const group of groups.values()) {
        const { conversationId, change, by } = group[0]!;
        staged.push(
          await this.d.events.stage(
            tx,
            scope,
            group.map((c) => c.userId),
            'chat.membership',
            { conversationId, change, by },
          ),
        );
      }
    };
    return { also, staged };
  }

  /** After the commit: the membership events to the users concerned, then a push to the members. */
  private announce(scope: TenantScope, conversationId: string, staged: StagedEvents[], push: boolean): void {
    for (const s of staged) this.d.events.publish(s);
    if (push)
      this.d.bus.publish('chat.conversation', {
        tenantId: scope.tenantId,
        conversationId,
        change: 'members',
      });
  }

  /** Stores a message (acknowledged after its commit) and pushes it to every online member device. */
  async send(
    scope: TenantScope,
    userId: string,
    conversationId: string,
    req: SendMessageRequest,
  ): Promise<SendResult> {
    this.d.throttle.take(userId);
    let mentions: StagedEvents | null = null;
    const r = await this.d.timeline.send(scope, userId, conversationId, req, async (tx, m) => {
      const mentioned = m.mentions.filter((u) => u !== userId);
      mentions = mentioned.length
        ? await this.d.events.stage(tx, scope, mentioned, 'chat.mention', {
            conversationId,
            messageId: m.id,
            seq: m.seq,
            senderId: userId,
          })
        : null;
    });
    if (r.duplicate) return r;
    this.d.bus.publish('chat.message', { tenantId: scope.tenantId, change: 'new', message: r.message });
    this.d.events.publish(mentions);
    return r;
  }

  async edit(
    scope: TenantScope,
    userId: string,
    id: string,
    messageId: string,
    text: string,
  ): Promise<Message> {
    const m = await this.d.timeline.edit(scope, userId, id, messageId, text);
    this.d.bus.publish('chat.message', { tenantId: scope.tenantId, change: 'edit', message: m });
    return m;
  }

  async delete(scope: TenantScope, userId: string, id: string, messageId: string): Promise<Message> {
    const m = await this.d.timeline.delete(scope, userId, id, messageId);
    this.d.bus.publish('chat.message', { tenantId: scope.tenantId, change: 'delete', message: m });
    return m;
  }

  /** Read (or delivered) up to `seq`: receipts pushed to the members, the badge cleared on your devices. */
  async read(
    scope: TenantScope,
    userId: string,
    conversationId: string,
    seq: number,
    deliveredOnly = false,
  ): Promise<{ readSeq: number; unread: number }> {
    let readEvent: StagedEvents | null = null;
    const r = await this.d.receipts.mark(scope, userId, conversationId, seq, deliveredOnly, async (tx, r) => {
      readEvent = r.readMoved
        ? await this.d.events.stage(tx, scope, [userId], 'chat.read', {
            conversationId,
            readSeq: r.readSeq,
            unread: r.unread,
          })
        : null;
    });
    if (r.readMoved || r.deliveredMoved)
      this.d.bus.publish('chat.receipt', {
        tenantId: scope.tenantId,
        conversationId,
        userId,
        readSeq: r.readSeq,
        deliveredSeq: r.deliveredSeq,
      });
    this.d.events.publish(readEvent);
    return { readSeq: r.readSeq, unread: r.unread };
  }

  /**
   * "Typing" (or, with `typing` false, "stopped") to the other members' devices; a non-member gets
   * not_found. Never stored; delivery ends it when no repeat comes within the TTL (typing.ts).
   */
  async typing(scope: TenantScope, userId: string, conversationId: string, typing = true): Promise<void> {
    const members = await this.d.memberIds(scope.tenantId, conversationId);
    if (!members.includes(userId))
      throw new ParleyError('not_found', 'no such conversation', { field: 'conversationId' });
    this.d.bus.publish('chat.typing', {
      tenantId: scope.tenantId,
      conversationId,
      userId,
      typing,
      ttlMs: this.d.limits.typingTtlMs,
    });
  }

  /** The chat part of a realtime welcome (the resume contract in packages/protocol/src/chat.ts). */
  async welcome(tenantId: string, userId: string, chatSince: number | undefined): Promise<ChatWelcome> {
    const cursor = this.now();
    if (chatSince === undefined) return { cursor, changed: [] };
    const changed = await this.d.conversations.changedSince(
      trustedScope(tenantId),
      userId,
      Math.max(0, chatSince - this.d.limits.resumeMarginMs),
    );
    return { cursor, changed };
  }

  /** Answers a chat frame from a realtime session of `userId`. */
  async frame(
    session: { tenantId: string; userId: string },
    f: ChatFrame,
  ): Promise<ResultOf['chat.send'] | ResultOf['chat.typing'] | ResultOf['chat.read']> {
    const scope = trustedScope(session.tenantId);
    switch (f.t) {
      case 'chat.send': {
        const { t: _t, id: _id, conversationId, ...req } = f;
        return (await this.send(scope, session.userId, conversationId, req)).message;
      }
      case 'chat.typing':
        await this.typing(scope, session.userId, f.conversationId, f.typing ?? true);
        return {};
      case 'chat.read':
        return this.read(scope, session.userId, f.conversationId, f.seq, f.delivered === true);
    }
  }
}
