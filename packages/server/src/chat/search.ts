/**
 * Full-text search over the messages of the caller's own conversations: SQLite FTS5 (bm25 ranking,
 * `snippet()`), PostgreSQL `tsvector` with the same words as a `to_tsquery` (`ts_rank`, `ts_headline`), both with
 * the `simple` word rules (no stemming), so the engines agree on what matches. Privacy is in the query:
 * only conversations the caller is a member of, and for a former member only messages up to the seq at
 * which they left. Edits re-index (the FTS5 triggers, the generated column); a delete empties the text,
 * which removes it from the index.
 *
 * Snippets are plain text: the engines mark matches with two control characters that message text
 * cannot contain (MessageText refuses them), which become `highlights` ranges, so a client never has
 * to render HTML from a search result.
 */
import { sql, type Kysely } from 'kysely';
import type { SearchHit } from '@parley/protocol';
import type { z } from 'zod';
import type { Database } from '../storage/schema.ts';
import type { Engine } from '../storage/db.ts';
import type { TenantScope } from '../directory/scope.ts';
import { messageOut, type MessageRow } from './timeline.ts';

type Hit = z.infer<typeof SearchHit>;

const START = '\u0001';
const STOP = '\u0002';

export interface SearchParams {
  q: string;
  limit: number;
  offset: number;
  conversationId?: string;
}

export class MessageSearch {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
  ) {}

  async search(
    scope: TenantScope,
    userId: string,
    p: SearchParams,
  ): Promise<{ hits: Hit[]; nextOffset: number | null }> {
    const rows =
      this.engine === 'postgres' ? await this.pg(scope, userId, p) : await this.sqlite(scope, userId, p);
    const more = rows.length > p.limit;
    const hits = rows.slice(0, p.limit).map((r) => {
      const { snippet, highlights } = marks(String(r.snip ?? ''));
      return { message: messageOut(r), snippet, highlights, rank: Number(r.rank) };
    });
    return { hits, nextOffset: more ? p.offset + p.limit : null };
  }

  private async sqlite(scope: TenantScope, userId: string, p: SearchParams) {
    const match = ftsQuery(p.q);
    if (!match) return [];
    const r = await sql<MessageRow & { rank: number; snip: string }>`
      select m.*, -bm25(messages_fts) as rank,
        snippet(messages_fts, 0, ${START}, ${STOP}, '…', 16) as snip
      from messages_fts
      join messages m on m.pos = messages_fts.rowid
      join conversation_members cm on cm.conversation_id = m.conversation_id and cm.user_id = ${userId}
      where messages_fts match ${match}
        and m.tenant_id = ${scope.tenantId} and cm.tenant_id = ${scope.tenantId}
        and m.deleted_at is null
        and (cm.left_seq is null or m.seq <= cm.left_seq)
        ${p.conversationId ? sql`and m.conversation_id = ${p.conversationId}` : sql``}
      order by bm25(messages_fts), m.created_at desc
      limit ${p.limit + 1} offset ${p.offset}`.execute(this.db);
    return r.rows;
  }

  private async pg(scope: TenantScope, userId: string, p: SearchParams) {
    const tsq = tsQuery(p.q);
    if (!tsq) return [];
    const options = `StartSel=${START}, StopSel=${STOP}, MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "`;
    const r = await sql<MessageRow & { rank: number; snip: string }>`
      select m.pos, m.id, m.tenant_id, m.conversation_id, m.seq, m.sender_id, m.client_message_id, m.text,
        m.reply_to, m.mentions, m.attachments, m.created_at, m.edited_at, m.deleted_at, m.edit_seq,
        ts_rank(m.search, query) as rank,
        ts_headline('simple', m.text, query, ${options}) as snip
      from messages m
      join conversation_members cm on cm.conversation_id = m.conversation_id and cm.user_id = ${userId},
        to_tsquery('simple', ${tsq}) query
      where m.search @@ query
        and m.tenant_id = ${scope.tenantId} and cm.tenant_id = ${scope.tenantId}
        and m.deleted_at is null
        and (cm.left_seq is null or m.seq <= cm.left_seq)
        ${p.conversationId ? sql`and m.conversation_id = ${p.conversationId}` : sql``}
      order by rank desc, m.created_at desc
      limit ${p.limit + 1} offset ${p.offset}`.execute(this.db);
    return r.rows;
  }
}

/** The user's words (letters and digits; everything else separates), at most 16. */
export function queryWords(q: string): string[] {
  return q
    .toLowerCase()
    .split(/[^\p{L}\p{N}_]+/u)
    .filter(Boolean)
    .slice(0, 16);
}

/**
 * The user's words as an FTS5 query: each word a quoted string (so operators and syntax in the input
 * are only text), all required; the last one also matches as a prefix (search as you type).
 */
export function ftsQuery(q: string): string | null {
  const words = queryWords(q);
  if (!words.length) return null;
  return words.map((w, i) => `"${w}"${i === words.length - 1 ? '*' : ''}`).join(' ');
}

/** The same words as a PostgreSQL tsquery: every word required, the last as a prefix (`:*`). */
export function tsQuery(q: string): string | null {
  const words = queryWords(q);
  if (!words.length) return null;
  return words.map((w, i) => `'${w}'${i === words.length - 1 ? ':*' : ''}`).join(' & ');
}

/** Turns marked text into plain text and [start, end) ranges of the marked parts. */
export function marks(marked: string): { snippet: string; highlights: Array<[number, number]> } {
  let snippet = '';
  const highlights: Array<[number, number]> = [];
  let open = -1;
  for (const ch of marked) {
    if (ch === START) open = snippet.length;
    else if (ch === STOP) {
      if (open >= 0) highlights.push([open, snippet.length]);
      open = -1;
    } else snippet += ch;
  }
  return { snippet, highlights };
}
