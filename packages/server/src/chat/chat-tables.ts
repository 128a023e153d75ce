/** Tables of chat (see conversations.ts, timeline.ts, receipts.ts, search.ts, files.ts). */
import type { Generated } from 'kysely';

export interface ConversationsTable {
  id: string;
  tenant_id: string;
  kind: 'direct' | 'group';
  title: string | null;
  /** Direct conversations only: the two user ids, sorted, joined by a space (unique per tenant). */
  direct_key: string | null;
  created_by: string;
  created_at: number;
  /** Highest message seq: the timeline's head, incremented in the transaction that stores a message. */
  head_seq: number;
  /** Highest edit seq: incremented by every edit and delete. */
  edit_seq: number;
  last_message_at: number | null;
  /** Bumped by anything a resuming client must look at (messages, edits, renames, membership). */
  changed_at: number;
  member_count: number;
}

export interface ConversationMembersTable {
  conversation_id: string;
  user_id: string;
  tenant_id: string;
  role: 'owner' | 'member';
  joined_at: number;
  /** Set when the member left or was removed; null while a member. */
  left_at: number | null;
  /** The head seq when they left: a former member reads history up to here. */
  left_seq: number | null;
  read_seq: number;
  delivered_seq: number;
}

export interface MessagesTable {
  /** A global integer key (SQLite rowid, PostgreSQL bigserial): the FTS5 content rowid. */
  pos: Generated<number>;
  id: string;
  tenant_id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  client_message_id: string;
  text: string;
  reply_to: string | null;
  /** JSON array of user ids. */
  mentions: string | null;
  /** JSON array of attachments ({id, name, contentType, size}). */
  attachments: string | null;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
  edit_seq: number;
}

export interface FilesTable {
  id: string;
  tenant_id: string;
  conversation_id: string;
  uploader_id: string;
  name: string;
  content_type: string;
  size: number;
  sha256: string;
  created_at: number;
  /** Images: the upright size (EXIF orientation applied), px; null for other files. */
  width: number | null;
  height: number | null;
  /** Images: `pending`, `ready` or `failed` (see thumbnails.ts); null for other files. */
  thumb_state: 'pending' | 'ready' | 'failed' | null;
  thumb_width: number | null;
  thumb_height: number | null;
  thumb_type: string | null;
  /** The error code of a failed thumbnail (`image_too_large`, `image_unreadable`). */
  thumb_error: string | null;
}

export interface ChatTables {
  conversations: ConversationsTable;
  conversation_members: ConversationMembersTable;
  messages: MessagesTable;
  files: FilesTable;
}
