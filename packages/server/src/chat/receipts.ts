/**
 * Receipts: each member's read and delivered positions in a conversation (one row per member, moved
 * only forward, never past the head). Unread counts derive from the read position, so reading on one
 * device clears the badge on the others (they get a `chat.read` event in their own log, written by `also`
 * in the transaction that moves the position, with the unread count that transaction sees).
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { TenantScope } from '../directory/scope.ts';
import type { ConversationStore } from './conversations.ts';
import type { AlsoInTx, WriteQueue } from './write-queue.ts';

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

  /**
   * Marks read (or, with `deliveredOnly`, delivered) up to `seq`, clamped to what the caller may see.
   * `also` runs in the transaction that moves a position (not at all when nothing moved).
   */
  async mark(
    scope: TenantScope,
    userId: string,
    conversationId: string,
    seq: number,
    deliveredOnly = false,
    also?: AlsoInTx<ReceiptResult>,
  ): Promise<ReceiptResult> {
    const a = await this.conversations.access(scope, userId, conversationId, 'read');
    const upTo = Math.min(seq, a.conversation.head_seq, a.visibleTo);
    const m = a.member;
    const read = deliveredOnly ? m.read_seq : Math.max(m.read_seq, upTo);
    const delivered = Math.max(m.delivered_seq, upTo, read);
    const readMoved = read > m.read_seq;
    const deliveredMoved = delivered > m.delivered_seq;
    const unreadIn = async (db?: Kysely<Database>) =>
      (await this.conversations.unreadOf(scope, userId, [conversationId], db)).get(conversationId) ?? 0;
    const result = (unread: number): ReceiptResult => ({
      readSeq: read,
      deliveredSeq: delivered,
      unread,
      readMoved,
      deliveredMoved,
    });
    if (!readMoved && !deliveredMoved) return result(await unreadIn());
    return this.writer.write(async (tx) => {
      await tx
        .updateTable('conversation_members')
        .set({
          // max() in SQL too: two devices reading at once never move a position back.
          read_seq: sql<number>`case when read_seq > ${read} then read_seq else ${read} end`,
          delivered_seq: sql<number>`case when delivered_seq > ${delivered} then delivered_seq else ${delivered} end`,
        })
        .where('conversation_id', '=', conversationId)
        .where('user_id', '=', userId)
        .where('tenant_id', '=', scope.tenantId)
        .execute();
      const r = result(await unreadIn(tx));
      await also?.(tx, r);
      return r;
    });
  }
}
