/**
 * Each conversation's timeline: messages numbered by a per-conversation `seq` (1, 2, 3, ... without
 * gaps), stored through the write queue so a send is acknowledged only after its COMMIT. A message is
 * one row (and its full-text entries) plus an update of the conversation's head, whatever the member
 * count. Sends are idempotent per (conversation, sender, clientMessageId): a retry after a lost answer
 * returns the stored message; the same id with another text is a 409. Edits and deletes keep the seq and
 * take the conversation's next `editSeq`, so clients catch up on changes with `editedAfter`.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import {
  ParleyError,
  type Attachment,
  type Message,
  type MessagePage,
  type SendMessageRequest,
} from '@parley/protocol';
import type { Database } from '../storage/schema.ts';
import type { TenantScope } from '../directory/scope.ts';
import { iso, newId } from '../ids.ts';
import type { MessagesTable } from './chat-tables.ts';
import type { ConversationStore } from './conversations.ts';
import type { AlsoInTx, WriteQueue } from './write-queue.ts';
import { imageOut } from './files.ts';

export type MessageRow = Selectable<MessagesTable>;

export interface TimelineLimits {
  /** Largest message text, UTF-8 bytes (413 beyond). */
  maxMessageBytes: number;
}

export interface SendResult {
  message: Message;
  /** True when this was a retry of a message already stored (nothing new was written). */
  duplicate: boolean;
}

/** Thrown inside the write transaction to roll it back when a concurrent retry stored the message first. */
class AlreadyStored extends Error {
  constructor(readonly row: MessageRow) {
    super('already stored');
  }
}

export class Timeline {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly writer: WriteQueue,
    private readonly conversations: Pick<ConversationStore, 'access'>,
    private readonly limits: TimelineLimits,
  ) {}

  async send(
    scope: TenantScope,
    senderId: string,
    conversationId: string,
    req: SendMessageRequest,
    also?: AlsoInTx<Message>,
  ): Promise<SendResult> {
    if (Buffer.byteLength(req.text, 'utf8') > this.limits.maxMessageBytes)
      throw new ParleyError(
        'payload_too_large',
        `a message is at most ${this.limits.maxMessageBytes} bytes`,
        {
          field: 'text',
        },
      );
    const now = Date.now();
    const id = newId('msg');
    // Everything in the one write: checked where nothing can change under the checks, and a send costs
    // one turn of the writer queue (reads queued before it would each wait for the open group's COMMIT).
    try {
      const message = await this.writer.write(async (tx) => {
        // The head update takes the conversation's row lock (PostgreSQL) before anything is checked, so
        // concurrent sends to one conversation are ordered and the checks below see every earlier one.
        const head = await tx
          .updateTable('conversations')
          .set({
            head_seq: sql<number>`head_seq + 1`,
            last_message_at: now,
            changed_at: now,
          })
          .where('id', '=', conversationId)
          .where('tenant_id', '=', scope.tenantId)
          .returning('head_seq')
          .executeTakeFirst();
        if (!head) throw new ParleyError('not_found', 'no such conversation', { field: 'conversationId' });
        // A current member only (a member removed meanwhile cannot post; a former one's retry is a 404).
        await this.conversations.access(scope, senderId, conversationId, 'write', tx);
        // A retry whose first attempt was stored: answer from the row; the head update rolls back.
        const again = await this.byClientId(tx, conversationId, senderId, req.clientMessageId);
        if (again) throw new AlreadyStored(again);
        const mentions = await this.checkMentions(tx, scope, conversationId, req.mentions);
        if (req.replyTo) await this.requireMessage(tx, scope, conversationId, req.replyTo, 'replyTo');
        const attachments = await this.attachmentsOf(tx, scope, conversationId, req.attachments);
        const values = {
          id,
          tenant_id: scope.tenantId,
          conversation_id: conversationId,
          seq: Number(head.head_seq),
          sender_id: senderId,
          client_message_id: req.clientMessageId,
          text: req.text,
          reply_to: req.replyTo ?? null,
          mentions: mentions.length ? JSON.stringify(mentions) : null,
          attachments: attachments.length ? JSON.stringify(attachments) : null,
          created_at: now,
          edited_at: null,
          deleted_at: null,
          edit_seq: 0,
        };
        await tx.insertInto('messages').values(values).execute();
        const stored = messageOut({ pos: 0, ...values });
        await also?.(tx, stored);
        return stored;
      });
      return { message, duplicate: false };
    } catch (err) {
      if (err instanceof AlreadyStored) return { message: this.same(err.row, req), duplicate: true };
      throw err;
    }
  }

  /** The stored message for a retry, or 409 when the id was used for another text. */
  private same(row: MessageRow, req: SendMessageRequest): Message {
    if (row.text !== req.text && row.deleted_at === null)
      throw new ParleyError('conflict', 'this clientMessageId was already used for another message', {
        field: 'clientMessageId',
      });
    return messageOut(row);
  }

  private byClientId(db: Kysely<Database>, conversationId: string, senderId: string, clientId: string) {
    return db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('sender_id', '=', senderId)
      .where('client_message_id', '=', clientId)
      .executeTakeFirst();
  }

  private async checkMentions(
    db: Kysely<Database>,
    scope: TenantScope,
    conversationId: string,
    mentions: string[] | undefined,
  ): Promise<string[]> {
    const ids = [...new Set(mentions ?? [])];
    if (!ids.length) return [];
    const found = await db
      .selectFrom('conversation_members')
      .select('user_id')
      .where('conversation_id', '=', conversationId)
      .where('tenant_id', '=', scope.tenantId)
      .where('left_at', 'is', null)
      .where('user_id', 'in', ids)
      .execute();
    if (found.length !== ids.length)
      throw new ParleyError('validation_failed', 'mentions must name members of the conversation', {
        field: 'mentions',
      });
    return ids;
  }

  private async attachmentsOf(
    db: Kysely<Database>,
    scope: TenantScope,
    conversationId: string,
    fileIds: string[] | undefined,
  ): Promise<Attachment[]> {
    const ids = [...new Set(fileIds ?? [])];
    if (!ids.length) return [];
    const files = await db
      .selectFrom('files')
      .select([
        'id',
        'name',
        'content_type',
        'size',
        'width',
        'height',
        'thumb_state',
        'thumb_width',
        'thumb_height',
      ])
      .where('tenant_id', '=', scope.tenantId)
      .where('conversation_id', '=', conversationId)
      .where('id', 'in', ids)
      .execute();
    const byId = new Map(files.map((f) => [f.id, f]));
    return ids.map((fid) => {
      const f = byId.get(fid);
      // Another conversation's file (or another tenant's) is no file here.
      if (!f)
        throw new ParleyError('not_found', `no such file in this conversation: ${fid}`, {
          field: 'attachments',
        });
      const image = imageOut(f);
      return {
        id: f.id,
        name: f.name,
        contentType: f.content_type,
        size: Number(f.size),
        ...(image ? { image } : {}),
      };
    });
  }

  private async requireMessage(
    db: Kysely<Database>,
    scope: TenantScope,
    conversationId: string,
    messageId: string,
    field?: string,
  ): Promise<MessageRow> {
    const row = await db
      .selectFrom('messages')
      .selectAll()
      .where('id', '=', messageId)
      .where('conversation_id', '=', conversationId)
      .where('tenant_id', '=', scope.tenantId)
      .executeTakeFirst();
    if (!row) throw new ParleyError('not_found', 'no such message', field ? { field } : {});
    return row;
  }

  /** A page of the timeline as the caller may read it (see MessagesQuery). */
  async page(
    scope: TenantScope,
    userId: string,
    conversationId: string,
    q: { after?: number; before?: number; editedAfter?: number; limit: number },
  ): Promise<MessagePage> {
    const given = [q.after, q.before, q.editedAfter].filter((v) => v !== undefined).length;
    if (given > 1)
      throw new ParleyError('validation_failed', 'give at most one of after, before and editedAfter', {
        field: 'query',
      });
    const a = await this.conversations.access(scope, userId, conversationId, 'read');
    const visibleTo = a.visibleTo;
    let query = this.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('tenant_id', '=', scope.tenantId)
      .where('seq', '<=', visibleTo)
      .limit(q.limit + 1);
    let descending = false;
    if (q.after !== undefined) query = query.where('seq', '>', q.after).orderBy('seq');
    else if (q.editedAfter !== undefined)
      query = query.where('edit_seq', '>', q.editedAfter).orderBy('edit_seq');
    else {
      if (q.before !== undefined) query = query.where('seq', '<', q.before);
      query = query.orderBy('seq', 'desc');
      descending = true;
    }
    const rows = await query.execute();
    const hasMore = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    if (descending) page.reverse();
    const c = a.conversation;
    return {
      messages: page.map(messageOut),
      hasMore,
      headSeq: Math.min(c.head_seq, visibleTo),
      editSeq: c.edit_seq,
    };
  }

  /** Changes the text of your own message. */
  async edit(
    scope: TenantScope,
    userId: string,
    conversationId: string,
    messageId: string,
    text: string,
  ): Promise<Message> {
    if (Buffer.byteLength(text, 'utf8') > this.limits.maxMessageBytes)
      throw new ParleyError(
        'payload_too_large',
        `a message is at most ${this.limits.maxMessageBytes} bytes`,
        {
          field: 'text',
        },
      );
    return this.change(scope, userId, conversationId, messageId, 'edit', text);
  }

  /** Deletes a message (yours, or any in a group you own): a tombstone keeps its seq. Idempotent. */
  delete(scope: TenantScope, userId: string, conversationId: string, messageId: string): Promise<Message> {
    return this.change(scope, userId, conversationId, messageId, 'delete');
  }

  private async change(
    scope: TenantScope,
    userId: string,
    conversationId: string,
    messageId: string,
    kind: 'edit' | 'delete',
    text?: string,
  ): Promise<Message> {
    const a = await this.conversations.access(scope, userId, conversationId, 'write');
    const current = await this.requireMessage(this.db, scope, conversationId, messageId);
    const owner = a.conversation.kind === 'group' && a.member.role === 'owner';
    if (current.sender_id !== userId && !(kind === 'delete' && owner))
      throw new ParleyError('forbidden', `only the sender can ${kind} a message`);
    if (current.deleted_at !== null) {
      if (kind === 'delete') return messageOut(current);
      throw new ParleyError('conflict', 'the message was deleted');
    }
    if (kind === 'edit' && current.text === text) return messageOut(current);
    const now = Date.now();
    const row = await this.writer.write(async (tx) => {
      const head = await tx
        .updateTable('conversations')
        .set({ edit_seq: sql<number>`edit_seq + 1`, changed_at: now })
        .where('id', '=', conversationId)
        .where('tenant_id', '=', scope.tenantId)
        .returning('edit_seq')
        .executeTakeFirstOrThrow();
      const set =
        kind === 'edit'
          ? { text: text!, edited_at: now, edit_seq: Number(head.edit_seq) }
          : { text: '', mentions: null, attachments: null, deleted_at: now, edit_seq: Number(head.edit_seq) };
      await tx
        .updateTable('messages')
        .set(set)
        .where('id', '=', messageId)
        .where('conversation_id', '=', conversationId)
        .execute();
      return { ...current, ...set };
    });
    return messageOut(row);
  }
}

export function messageOut(r: MessageRow): Message {
  return {
    id: r.id,
    conversationId: r.conversation_id,
    seq: Number(r.seq),
    senderId: r.sender_id,
    clientMessageId: r.client_message_id,
    text: r.text,
    replyTo: r.reply_to,
    mentions: r.mentions ? (JSON.parse(r.mentions) as string[]) : [],
    attachments: r.attachments ? (JSON.parse(r.attachments) as Attachment[]) : [],
    createdAt: iso(Number(r.created_at)),
    editedAt: r.edited_at === null ? null : iso(Number(r.edited_at)),
    deletedAt: r.deleted_at === null ? null : iso(Number(r.deleted_at)),
    editSeq: Number(r.edit_seq),
  };
}
