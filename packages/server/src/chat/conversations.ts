/**
 * Conversations and their members. A direct conversation is one per pair of users (opening a chat with
 * Bob again returns the same one: a unique `direct_key` per tenant); a group has a title and up to
 * `maxMembers` members. Every read and write checks membership here: a user who never was a member sees
 * no such conversation (404, the same as another tenant's id); a former member keeps read access to the
 * history up to the seq at which they left.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import { ParleyError, type Conversation, type ConversationMember } from '@parley/protocol';
import type { Database } from '../storage/schema.ts';
import type { TenantScope } from '../directory/scope.ts';
import { toUser } from '../directory/directory.ts';
import { isUniqueViolation } from '../storage/db.ts';
import { iso, newId } from '../ids.ts';
import type { ConversationMembersTable, ConversationsTable } from './chat-tables.ts';
import type { AlsoInTx, WriteQueue } from './write-queue.ts';

export type ConversationRow = Selectable<ConversationsTable>;
export type MemberRow = Selectable<ConversationMembersTable>;

/** What a caller may do in a conversation: a current member writes; a former one reads up to `visibleTo`. */
export interface Access {
  conversation: ConversationRow;
  member: MemberRow;
  current: boolean;
  /** The highest seq the caller may read. */
  visibleTo: number;
}

export interface MembershipChange {
  conversationId: string;
  userId: string;
  change: 'added' | 'removed' | 'left';
  by: string | null;
}

export class ConversationStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly writer: WriteQueue,
    private readonly limits: { maxMembers: number },
  ) {}

  /**
   * Creates a conversation, or returns the existing 1:1 one for the pair. `others` are the other
   * members (the creator is always one). Returns the membership changes made; `also` writes their
   * events in the same transaction.
   */
  async create(
    scope: TenantScope,
    creatorId: string,
    input: { members: string[]; title?: string; kind?: 'direct' | 'group' },
    also?: AlsoInTx<MembershipChange[]>,
  ): Promise<{ id: string; created: boolean; changes: MembershipChange[] }> {
    const others = [...new Set(input.members)].filter((m) => m !== creatorId);
    if (others.length === 0)
      throw new ParleyError('validation_failed', 'name at least one other member', { field: 'members' });
    const direct = input.kind !== 'group' && others.length === 1 && input.title === undefined;
    if (input.kind === 'direct' && !direct)
      throw new ParleyError(
        'validation_failed',
        'a direct conversation has exactly one other member and no title',
        {
          field: 'members',
        },
      );
    if (others.length + 1 > this.limits.maxMembers)
      throw new ParleyError(
        'limit_exceeded',
        `a conversation has at most ${this.limits.maxMembers} members`,
        {
          field: 'members',
        },
      );
    await this.requireUsers(scope, others);
    const now = Date.now();
    const directKey = direct ? [creatorId, others[0]!].sort().join(' ') : null;
    if (directKey) {
      const existing = await this.findDirect(scope, directKey);
      if (existing) return this.reopenDirect(scope, existing.id, creatorId, also);
    }
    const id = newId('cnv');
    const changes = others.map((userId): MembershipChange => ({
      conversationId: id,
      userId,
      change: 'added',
      by: creatorId,
    }));
    try {
      await this.writer.write(async (tx) => {
        await tx
          .insertInto('conversations')
          .values({
            id,
            tenant_id: scope.tenantId,
            kind: direct ? 'direct' : 'group',
            title: input.title ?? null,
            direct_key: directKey,
            created_by: creatorId,
            created_at: now,
            head_seq: 0,
            edit_seq: 0,
            last_message_at: null,
            changed_at: now,
            member_count: others.length + 1,
          })
          .execute();
        const rows = [creatorId, ...others].map((userId, i) => ({
          conversation_id: id,
          user_id: userId,
          tenant_id: scope.tenantId,
          role: (i === 0 && !direct ? 'owner' : 'member') as MemberRow['role'],
          joined_at: now,
          left_at: null,
          left_seq: null,
          read_seq: 0,
          delivered_seq: 0,
        }));
        for (let i = 0; i < rows.length; i += 500)
          await tx
            .insertInto('conversation_members')
            .values(rows.slice(i, i + 500))
            .execute();
        await also?.(tx, changes);
      });
    } catch (err) {
      // Both of a pair opened their chat at once: the other's insert won; use it.
      if (directKey && isUniqueViolation(err)) {
        const existing = await this.findDirect(scope, directKey);
        if (existing) return this.reopenDirect(scope, existing.id, creatorId, also);
      }
      throw err;
    }
    return { id, created: true, changes };
  }

  private findDirect(scope: TenantScope, key: string) {
    return this.db
      .selectFrom('conversations')
      .select('id')
      .where('tenant_id', '=', scope.tenantId)
      .where('direct_key', '=', key)
      .executeTakeFirst();
  }

  /** Opening a 1:1 chat you had left makes you a member again. */
  private async reopenDirect(
    scope: TenantScope,
    id: string,
    userId: string,
    also: AlsoInTx<MembershipChange[]> | undefined,
  ) {
    const change: MembershipChange = { conversationId: id, userId, change: 'added', by: userId };
    const changed = await this.rejoin(scope, change, also);
    return { id, created: false, changes: changed ? [change] : [] };
  }

  private async requireUsers(scope: TenantScope, ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const found = await this.db
        .selectFrom('users')
        .select('id')
        .where('tenant_id', '=', scope.tenantId)
        .where('role', '!=', 'operator')
        .where('id', 'in', chunk)
        .execute();
      if (found.length !== chunk.length) {
        const have = new Set(found.map((f) => f.id));
        const missing = chunk.find((c) => !have.has(c));
        throw new ParleyError('not_found', `no such user ${missing}`, { field: 'members' });
      }
    }
  }

  /**
   * The caller's access to a conversation, or 404 when they never were a member (or it is another
   * tenant's). `write` demands a current member.
   */
  async access(
    scope: TenantScope,
    userId: string,
    conversationId: string,
    need: 'read' | 'write',
    db: Kysely<Database> = this.db,
  ): Promise<Access> {
    const row = await db
      .selectFrom('conversation_members as m')
      .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
      .selectAll('c')
      .select([
        'm.user_id',
        'm.role',
        'm.joined_at',
        'm.left_at',
        'm.left_seq',
        'm.read_seq',
        'm.delivered_seq',
      ])
      .where('m.conversation_id', '=', conversationId)
      .where('m.user_id', '=', userId)
      .where('m.tenant_id', '=', scope.tenantId)
      .where('c.tenant_id', '=', scope.tenantId)
      .executeTakeFirst();
    if (!row || (need === 'write' && row.left_at !== null))
      throw new ParleyError('not_found', 'no such conversation', { field: 'conversationId' });
    const { user_id, role, joined_at, left_at, left_seq, read_seq, delivered_seq, ...c } = row;
    const conversation = numbersOf(c);
    return {
      conversation,
      member: {
        conversation_id: conversationId,
        user_id,
        tenant_id: scope.tenantId,
        role,
        joined_at: Number(joined_at),
        left_at: left_at === null ? null : Number(left_at),
        left_seq: left_seq === null ? null : Number(left_seq),
        read_seq: Number(read_seq),
        delivered_seq: Number(delivered_seq),
      },
      current: left_at === null,
      visibleTo: left_seq === null ? Number.MAX_SAFE_INTEGER : Number(left_seq),
    };
  }

  /** One conversation as the caller sees it, with its current members. */
  async get(scope: TenantScope, userId: string, conversationId: string): Promise<Conversation> {
    const a = await this.access(scope, userId, conversationId, 'read');
    const members = await this.db
      .selectFrom('conversation_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .selectAll('u')
      .select(['m.role as member_role', 'm.joined_at', 'm.read_seq', 'm.delivered_seq'])
      .where('m.conversation_id', '=', conversationId)
      .where('m.tenant_id', '=', scope.tenantId)
      .where('m.left_at', 'is', null)
      .orderBy('m.joined_at')
      .orderBy('u.id')
      .execute();
    const unread = await this.unreadOf(scope, userId, [conversationId]);
    return {
      ...conversationOut(a.conversation, a.member, unread.get(conversationId) ?? 0),
      members: members.map((m): ConversationMember => ({
        userId: m.id,
        role: m.member_role,
        joinedAt: iso(Number(m.joined_at)),
        readSeq: Number(m.read_seq),
        deliveredSeq: Number(m.delivered_seq),
        user: toUser(m),
      })),
    };
  }

  /** Every conversation the user is or was a member of, most recently active first. */
  async list(scope: TenantScope, userId: string): Promise<{ items: Conversation[]; unreadTotal: number }> {
    const rows = await this.db
      .selectFrom('conversation_members as m')
      .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
      .selectAll('c')
      .select([
        'm.user_id',
        'm.role',
        'm.joined_at',
        'm.left_at',
        'm.left_seq',
        'm.read_seq',
        'm.delivered_seq',
      ])
      .where('m.user_id', '=', userId)
      .where('m.tenant_id', '=', scope.tenantId)
      .orderBy('c.changed_at', 'desc')
      .limit(2000)
      .execute();
    const unread = await this.unreadOf(
      scope,
      userId,
      rows.map((r) => r.id),
    );
    let unreadTotal = 0;
    const items = rows.map((r) => {
      const n = unread.get(r.id) ?? 0;
      unreadTotal += n;
      return conversationOut(numbersOf(r), memberOf(r), n);
    });
    return { items, unreadTotal };
  }

  /**
   * Unread messages per conversation for the user: messages after their read position, not their own,
   * not deleted, and (for a former member) not after they left. One grouped query.
   */
  async unreadOf(
    scope: TenantScope,
    userId: string,
    conversationIds: string[],
    db: Kysely<Database> = this.db,
  ): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (conversationIds.length === 0) return out;
    for (let i = 0; i < conversationIds.length; i += 500) {
      const rows = await db
        .selectFrom('conversation_members as m')
        .innerJoin('messages as g', (j) =>
          j.onRef('g.conversation_id', '=', 'm.conversation_id').onRef('g.seq', '>', 'm.read_seq'),
        )
        .select(['m.conversation_id', (eb) => eb.fn.countAll<number>().as('n')])
        .where('m.user_id', '=', userId)
        .where('m.tenant_id', '=', scope.tenantId)
        .where('m.conversation_id', 'in', conversationIds.slice(i, i + 500))
        .where('g.sender_id', '!=', userId)
        .where('g.deleted_at', 'is', null)
        .where((eb) => eb.or([eb('m.left_seq', 'is', null), eb('g.seq', '<=', eb.ref('m.left_seq'))]))
        .groupBy('m.conversation_id')
        .execute();
      for (const r of rows) out.set(r.conversation_id, Number(r.n));
    }
    return out;
  }

  /** The ids of the current members (delivery, typing). */
  async memberIds(scope: TenantScope, conversationId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('conversation_members')
      .select('user_id')
      .where('conversation_id', '=', conversationId)
      .where('tenant_id', '=', scope.tenantId)
      .where('left_at', 'is', null)
      .execute();
    return rows.map((r) => r.user_id);
  }

  /** Renames a group (any current member may). */
  async rename(
    scope: TenantScope,
    userId: string,
    conversationId: string,
    title: string | null,
  ): Promise<void> {
    const a = await this.access(scope, userId, conversationId, 'write');
    if (a.conversation.kind !== 'group')
      throw new ParleyError('validation_failed', 'only group conversations have a title', { field: 'title' });
    await this.writer.write((tx) =>
      tx
        .updateTable('conversations')
        .set({ title, changed_at: Date.now() })
        .where('id', '=', conversationId)
        .where('tenant_id', '=', scope.tenantId)
        .execute(),
    );
  }

  /** Adds a user of the tenant to a group (any current member may); a former member rejoins. */
  async addMember(
    scope: TenantScope,
    actorId: string,
    conversationId: string,
    userId: string,
    also?: AlsoInTx<MembershipChange[]>,
  ): Promise<MembershipChange | null> {
    const a = await this.access(scope, actorId, conversationId, 'write');
    if (a.conversation.kind !== 'group')
      throw new ParleyError('validation_failed', 'a direct conversation has exactly two members');
    await this.requireUsers(scope, [userId]);
    if (a.conversation.member_count + 1 > this.limits.maxMembers)
      throw new ParleyError('limit_exceeded', `a conversation has at most ${this.limits.maxMembers} members`);
    const change: MembershipChange = { conversationId, userId, change: 'added', by: actorId };
    return (await this.rejoin(scope, change, also)) ? change : null;
  }

  /** Makes `change.userId` a current member (insert or rejoin); false when they already were one. */
  private rejoin(
    scope: TenantScope,
    change: MembershipChange,
    also: AlsoInTx<MembershipChange[]> | undefined,
  ): Promise<boolean> {
    const { conversationId, userId } = change;
    const now = Date.now();
    return this.writer.write(async (tx) => {
      const existing = await tx
        .selectFrom('conversation_members')
        .select(['left_at'])
        .where('conversation_id', '=', conversationId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (existing && existing.left_at === null) {
        await also?.(tx, []);
        return false;
      }
      if (existing)
        await tx
          .updateTable('conversation_members')
          .set({ left_at: null, left_seq: null, joined_at: now })
          .where('conversation_id', '=', conversationId)
          .where('user_id', '=', userId)
          .execute();
      else
        await tx
          .insertInto('conversation_members')
          .values({
            conversation_id: conversationId,
            user_id: userId,
            tenant_id: scope.tenantId,
            role: 'member',
            joined_at: now,
            left_at: null,
            left_seq: null,
            read_seq: 0,
            delivered_seq: 0,
          })
          .execute();
      await tx
        .updateTable('conversations')
        .set({ member_count: sql<number>`member_count + 1`, changed_at: now })
        .where('id', '=', conversationId)
        .execute();
      await also?.(tx, [change]);
      return true;
    });
  }

  /**
   * Removes a member: yourself (leaving, any conversation) or another (a group's owner only). The
   * former member keeps the history up to the current head. Idempotent for someone already gone.
   */
  async removeMember(
    scope: TenantScope,
    actorId: string,
    conversationId: string,
    userId: string,
    also?: AlsoInTx<MembershipChange[]>,
  ): Promise<MembershipChange | null> {
    const a = await this.access(scope, actorId, conversationId, 'write');
    const leaving = actorId === userId;
    if (!leaving) {
      if (a.conversation.kind !== 'group')
        throw new ParleyError('validation_failed', 'nobody can be removed from a direct conversation');
      if (a.member.role !== 'owner')
        throw new ParleyError('forbidden', "only the group's owner removes other members");
      await this.requireUsers(scope, [userId]);
    }
    const now = Date.now();
    const change: MembershipChange = {
      conversationId,
      userId,
      change: leaving ? 'left' : 'removed',
      by: actorId,
    };
    const removed = await this.writer.write(async (tx) => {
      // The head read inside the write transaction: no message can slip in between.
      const head = await tx
        .selectFrom('conversations')
        .select('head_seq')
        .where('id', '=', conversationId)
        .executeTakeFirstOrThrow();
      const r = await tx
        .updateTable('conversation_members')
        .set({ left_at: now, left_seq: Number(head.head_seq) })
        .where('conversation_id', '=', conversationId)
        .where('user_id', '=', userId)
        .where('left_at', 'is', null)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) {
        await also?.(tx, []);
        return false;
      }
      await tx
        .updateTable('conversations')
        .set({ member_count: sql<number>`member_count - 1`, changed_at: now })
        .where('id', '=', conversationId)
        .execute();
      await also?.(tx, [change]);
      return true;
    });
    return removed ? change : null;
  }

  /** The user's conversations changed at or after `since` (ms), with their heads (the resume contract). */
  async changedSince(
    scope: TenantScope,
    userId: string,
    since: number,
  ): Promise<Array<{ conversationId: string; headSeq: number; editSeq: number }>> {
    const rows = await this.db
      .selectFrom('conversation_members as m')
      .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
      .select(['c.id', 'c.head_seq', 'c.edit_seq', 'm.left_seq'])
      .where('m.user_id', '=', userId)
      .where('m.tenant_id', '=', scope.tenantId)
      .where('c.changed_at', '>=', since)
      .orderBy('c.changed_at', 'desc')
      .limit(5000)
      .execute();
    return rows.map((r) => ({
      conversationId: r.id,
      headSeq: r.left_seq === null ? Number(r.head_seq) : Math.min(Number(r.head_seq), Number(r.left_seq)),
      editSeq: Number(r.edit_seq),
    }));
  }
}

/** PostgreSQL returns bigint columns as numbers (db.ts); SQLite already does. Normalise anyway. */
function numbersOf<T extends ConversationRow>(c: T): ConversationRow {
  return {
    id: c.id,
    tenant_id: c.tenant_id,
    kind: c.kind,
    title: c.title,
    direct_key: c.direct_key,
    created_by: c.created_by,
    created_at: Number(c.created_at),
    head_seq: Number(c.head_seq),
    edit_seq: Number(c.edit_seq),
    last_message_at: c.last_message_at === null ? null : Number(c.last_message_at),
    changed_at: Number(c.changed_at),
    member_count: Number(c.member_count),
  };
}

function memberOf(r: ConversationRow & Omit<MemberRow, 'conversation_id' | 'tenant_id'>): MemberRow {
  return {
    conversation_id: r.id,
    user_id: r.user_id,
    tenant_id: r.tenant_id,
    role: r.role,
    joined_at: Number(r.joined_at),
    left_at: r.left_at === null ? null : Number(r.left_at),
    left_seq: r.left_seq === null ? null : Number(r.left_seq),
    read_seq: Number(r.read_seq),
    delivered_seq: Number(r.delivered_seq),
  };
}

export function conversationOut(c: ConversationRow, m: MemberRow, unread: number): Conversation {
  const head = m.left_seq === null ? c.head_seq : Math.min(c.head_seq, m.left_seq);
  return {
    id: c.id,
    kind: c.kind,
    title: c.title,
    createdAt: iso(c.created_at),
    headSeq: head,
    editSeq: c.edit_seq,
    lastMessageAt: c.last_message_at === null ? null : iso(c.last_message_at),
    memberCount: c.member_count,
    // The pair is in the direct key, so naming a 1:1 chat costs the list no query.
    peerId: c.direct_key?.split(' ').find((u) => u !== m.user_id) ?? null,
    me: { readSeq: m.read_seq, unread, leftSeq: m.left_seq },
  };
}
