import { sql, type Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * Chat: conversations with their own timelines, members with read/delivered positions, messages, files,
 * and the full-text index (SQLite FTS5 as an external-content table kept in step by triggers;
 * PostgreSQL a generated `tsvector` column with a GIN index). A message is one row in `messages` (plus
 * its index entries) and an update of its conversation's head: the same whatever the member count.
 */
export async function up(db: Kysely<unknown>, engine: MigrationEngine): Promise<void> {
  const pg = engine === 'postgres';
  const run = (statement: string) => sql.raw(statement).execute(db);
  await run(`create table conversations (
    id text primary key,
    tenant_id text not null,
    kind text not null,
    title text,
    direct_key text,
    created_by text not null,
    created_at bigint not null,
    head_seq bigint not null default 0,
    edit_seq bigint not null default 0,
    last_message_at bigint,
    changed_at bigint not null,
    member_count integer not null default 0
  )`);
  await run(`create unique index conversations_direct on conversations (tenant_id, direct_key)`);
  await run(`create table conversation_members (
    conversation_id text not null references conversations (id) on delete cascade,
    user_id text not null references users (id) on delete cascade,
    tenant_id text not null,
    role text not null,
    joined_at bigint not null,
    left_at bigint,
    left_seq bigint,
    read_seq bigint not null default 0,
    delivered_seq bigint not null default 0,
    primary key (conversation_id, user_id)
  )`);
  await run(`create index conversation_members_user on conversation_members (user_id, conversation_id)`);
  await run(`create table messages (
    pos ${pg ? 'bigserial' : 'integer'} primary key,
    id text not null unique,
    tenant_id text not null,
    conversation_id text not null references conversations (id) on delete cascade,
    seq bigint not null,
    sender_id text not null,
    client_message_id text not null,
    text text not null,
    reply_to text,
    mentions text,
    attachments text,
    created_at bigint not null,
    edited_at bigint,
    deleted_at bigint,
    edit_seq bigint not null default 0
  )`);
  await run(`create unique index messages_timeline on messages (conversation_id, seq)`);
  await run(
    `create unique index messages_client_id on messages (conversation_id, sender_id, client_message_id)`,
  );
  await run(`create index messages_edits on messages (conversation_id, edit_seq) where edit_seq > 0`);
  await run(`create table files (
    id text primary key,
    tenant_id text not null,
    conversation_id text not null references conversations (id) on delete cascade,
    uploader_id text not null,
    name text not null,
    content_type text not null,
    size bigint not null,
    sha256 text not null,
    created_at bigint not null
  )`);
  if (pg) {
    await run(
      `alter table messages add column search tsvector generated always as (to_tsvector('simple', text)) stored`,
    );
    await run(`create index messages_search on messages using gin (search)`);
    return;
  }
  await run(
    `create virtual table messages_fts using fts5(text, content='messages', content_rowid='pos', tokenize='unicode61 remove_diacritics 2')`,
  );
  await run(`create trigger messages_fts_insert after insert on messages begin
    insert into messages_fts (rowid, text) values (new.pos, new.text);
  end`);
  await run(`create trigger messages_fts_delete after delete on messages begin
    insert into messages_fts (messages_fts, rowid, text) values ('delete', old.pos, old.text);
  end`);
  await run(`create trigger messages_fts_update after update of text on messages begin
    insert into messages_fts (messages_fts, rowid, text) values ('delete', old.pos, old.text);
    insert into messages_fts (rowid, text) values (new.pos, new.text);
  end`);
}
