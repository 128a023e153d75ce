/**
 * Receipts: each member's read and delivered positions in a conversation (one row per member, moved
 * only forward, never past the head). Unread counts derive from the read position, so reading on one
 * device clears the badge on the others (they get a `chat.read` event in their own log).
 */
import { sql } from 'kysely';
import type { TenantScope } from '../directory/scope.ts';
import type { ConversationStore } from './conversations.ts';
import type { WriteQueue } from './write-queue.ts';

export interface ReceiptResult {
  readSeq: number;
  deliveredSeq: number;
  unread: number;
  /** Whether the read (or delivered) position moved: unmoved positions are not announced. */
  readMoved: boolean;
  deliveredMoved: boolean;
}

export class Receipts {
  constructor(
    private readonly writer: WriteQueue,
    private readonly conversations: Pick<ConversationStore, 'access' | 'unreadOf'>,
  ) {}

  /** Marks read (or, with `deliveredOnly`, delivered) up to `seq`, clamped to what the caller may see. */
  async mark(
    scope: TenantScope,
    userId: string,
    conversationId: string,
    seq: number,
    deliveredOnly = false,
  ): Promise<ReceiptResult> {
    const a = await this.conversations.access(scope, userId, conversationId, 'read');
    const upTo = Math.min(seq, a.conversation.head_seq, a.visibleTo);
    const m = a.member;
    const read = deliveredOnly ? m.read_seq : Math.max(m.read_seq, upTo);
    const delivered = Math.max(m.delivered_seq, upTo, read);
    const readMoved = read > m.read_seq;
    const deliveredMoved = delivered > m.delivered_seq;
    if (readMoved || deliveredMoved) {
      await this.writer.write((tx) =>
        tx
          .updateTable('conversation_members')
          .set({
            // max() in SQL too: two devices reading at once never move a position back.
            read_seq: sql<number>`case when read_seq > ${read} then read_seq else ${read} end`,
            delivered_seq: sql<number>`case when delivered_seq > ${delivered} then delivered_seq else ${delivered} end`,
          })
          .where('conversation_id', '=', conversationId)
          .where('user_id', '=', userId)
          .where('tenant_id', '=', scope.tenantId)
          .execute(),
      );
    }
    const unread =
      (await this.conversations.unreadOf(scope, userId, [conversationId])).get(conversationId) ?? 0;
    return { readSeq: read, deliveredSeq: delivered, unread, readMoved, deliveredMoved };
  }
}
