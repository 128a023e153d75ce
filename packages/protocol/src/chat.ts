/**
 * Chat: conversations (1:1 and groups), messages on a per-conversation timeline, receipts, typing,
 * search and files. REST schemas and the realtime frames, defined once for the server and the SDK.
 *
 * ## Timelines and the resume contract
 * Each conversation is its own ordered stream, as a Matrix room has a timeline: every message gets the
 * conversation's next `seq` (1, 2, 3, ... with no gaps), allocated in the transaction that stores it.
 * A message costs the same rows whatever the member count; it is pushed to every online device of
 * every member (`chat.message` frames), the sender's other devices included. Edits and deletes do not
 * move a message: they give it the conversation's next `editSeq` (a second counter), so a client can
 * ask for "what changed after the edit I last saw".
 *
 * A client keeps, per conversation, the highest `seq` and `editSeq` it holds. When it reconnects:
 * 1. `hello.resume.chatSince` carries the `chat.cursor` of its previous `welcome` (or 0).
 * 2. `welcome.chat.changed` lists the user's conversations changed since then (a message, an edit, a
 *    rename, a membership change), each with its `headSeq` and `editSeq`; `welcome.chat.cursor` is the
 *    cursor to keep for the next reconnection. The list may include conversations that did not change
 *    (the cursor is a clock with a safety margin); it never omits one that did.
 * 3. For each listed conversation whose `headSeq` is above its own, the client fetches
 *    `GET /api/conversations/:id/messages?after=<its seq>` (pages of `limit`, ascending, until
 *    `hasMore` is false), and `?editedAfter=<its editSeq>` when `editSeq` is above its own. Live
 *    `chat.message` frames that arrive meanwhile are merged by `seq`: nothing is missed or shown twice.
 * Per-user things (read positions from your other devices, being added or removed, mentions) travel in
 * the user's durable event log (kinds `chat.read`, `chat.membership`, `chat.mention`), replayed on
 * resume like any durable event. Typing is ephemeral: never stored, never replayed.
 *
 * Calls and other apps that post into conversations build on the same contract.
 */
import { z } from 'zod';
import { DisplayText, Id, User } from './api.ts';

/** Message text: as typed (formatting is the client's to render), no NUL or other C0 controls but tab and newlines. */
export const MessageText = z
  .string()
  .max(1_000_000)
  .refine((s) => s.trim().length > 0, 'must not be empty')
  .refine(
    (s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s),
    'must not contain control characters',
  );

/** A client-chosen id that makes a send idempotent: a retry under the same id returns the stored message. */
export const ClientMessageId = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'must be 1-100 of A-Z a-z 0-9 _ . : -');

export const ConversationKind = z.enum(['direct', 'group']);

export const ConversationMember = z.object({
  userId: z.string(),
  role: z.enum(['owner', 'member']),
  joinedAt: z.string(),
  /** Read up to this seq (read receipts). */
  readSeq: z.number().int(),
  /** Delivered to a device up to this seq (delivered receipts). */
  deliveredSeq: z.number().int(),
  user: User.optional(),
});
export type ConversationMember = z.infer<typeof ConversationMember>;

export const Conversation = z.object({
  id: z.string(),
  kind: ConversationKind,
  title: z.string().nullable(),
  createdAt: z.string(),
  /** Highest message seq (0: no message yet). */
  headSeq: z.number().int(),
  /** Highest edit/delete seq (0: nothing edited yet). */
  editSeq: z.number().int(),
  lastMessageAt: z.string().nullable(),
  memberCount: z.number().int(),
  /** Direct conversations: the other member's user id (what a client names it by); null for groups. */
  peerId: z.string().nullable(),
  /** The caller's own position and state. */
  me: z.object({
    readSeq: z.number().int(),
    unread: z.number().int(),
    /** Set when the caller has left or was removed: history is visible up to `leftSeq`. */
    leftSeq: z.number().int().nullable(),
  }),
  /** Present on `GET /api/conversations/:id` (current members only). */
  members: z.array(ConversationMember).optional(),
});
export type Conversation = z.infer<typeof Conversation>;

export const CreateConversationRequest = z.strictObject({
  /** Other members (user ids of the caller's tenant); one and no title: the 1:1 conversation with them. */
  members: z.array(Id).min(1).max(10_000),
  title: DisplayText(200).optional(),
  /** Force a group even with one other member. */
  kind: ConversationKind.optional(),
});
export const UpdateConversationRequest = z.strictObject({ title: DisplayText(200).nullable() });
export const ConversationList = z.object({
  items: z.array(Conversation),
  /** Unread messages over every conversation (the badge). */
  unreadTotal: z.number().int(),
});

/**
 * An image file's upright size (EXIF orientation applied) and its thumbnail's, px. `thumbnail` is null
 * when none will be made (`image_too_large` or `image_unreadable` from its header); otherwise
 * `GET /api/files/:id/thumbnail` serves it (rendered after the upload, off its critical path: the GET
 * waits for it), or answers one of those codes if the pixels turn out not to decode.
 */
export const ImageInfo = z.object({
  width: z.number().int(),
  height: z.number().int(),
  thumbnail: z.object({ width: z.number().int(), height: z.number().int() }).nullable(),
});
export type ImageInfo = z.infer<typeof ImageInfo>;

export const Attachment = z.object({
  id: z.string(),
  name: z.string(),
  contentType: z.string(),
  size: z.number().int(),
  /** Images (PNG, JPEG, GIF, WebP): the size, so a client can lay out the preview before it loads. */
  image: ImageInfo.optional(),
});
export type Attachment = z.infer<typeof Attachment>;

export const Message = z.object({
  id: z.string(),
  conversationId: z.string(),
  seq: z.number().int(),
  senderId: z.string(),
  clientMessageId: z.string(),
  /** Verbatim; empty when deleted. */
  text: z.string(),
  replyTo: z.string().nullable(),
  mentions: z.array(z.string()),
  attachments: z.array(Attachment),
  createdAt: z.string(),
  editedAt: z.string().nullable(),
  /** A tombstone: the text and attachments are gone, the seq stays. */
  deletedAt: z.string().nullable(),
  /** 0 until edited or deleted; then the conversation's edit seq of the last change. */
  editSeq: z.number().int(),
});
export type Message = z.infer<typeof Message>;

export const SendMessageRequest = z.strictObject({
  text: MessageText,
  clientMessageId: ClientMessageId,
  replyTo: Id.optional(),
  /** User ids mentioned (members of the conversation); each gets a `chat.mention` event. */
  mentions: z.array(Id).max(100).optional(),
  /** File ids uploaded to this conversation. */
  attachments: z.array(Id).max(20).optional(),
});
export type SendMessageRequest = z.infer<typeof SendMessageRequest>;
export const EditMessageRequest = z.strictObject({ text: MessageText });

export const MessagesQuery = z.strictObject({
  /** Messages with seq > after, ascending (catching up). */
  after: z.coerce.number().int().min(0).optional(),
  /** Messages with seq < before, newest first in the page but returned ascending (scrolling back). */
  before: z.coerce.number().int().min(1).optional(),
  /** Messages edited or deleted after this edit seq, by edit seq (catching up on changes). */
  editedAfter: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const MessagePage = z.object({
  messages: z.array(Message),
  /** More messages lie beyond this page in the direction asked. */
  hasMore: z.boolean(),
  headSeq: z.number().int(),
  editSeq: z.number().int(),
});
export type MessagePage = z.infer<typeof MessagePage>;

export const ReadRequest = z.strictObject({ seq: z.number().int().min(0) });
export const ReadResponse = z.object({ readSeq: z.number().int(), unread: z.number().int() });

export const SearchQuery = z.strictObject({
  q: z.string().trim().min(1).max(200),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(10_000).default(0),
  conversationId: Id.optional(),
});
export const SearchHit = z.object({
  message: Message,
  /** Plain text around the matches (not HTML). */
  snippet: z.string(),
  /** [start, end) character ranges of `snippet` that matched. */
  highlights: z.array(z.tuple([z.number().int(), z.number().int()])),
  rank: z.number(),
});
export const SearchResults = z.object({ hits: z.array(SearchHit), nextOffset: z.number().int().nullable() });

export const FileInfo = Attachment.extend({
  /** Null: not an image. */
  image: ImageInfo.nullable(),
  conversationId: z.string(),
  uploaderId: z.string(),
  createdAt: z.string(),
  sha256: z.string(),
});
export type FileInfo = z.infer<typeof FileInfo>;
export const UploadQuery = z.strictObject({
  conversationId: Id,
  name: z
    .string()
    .min(1)
    .max(255)
    .refine((s) => !/[\u0000-\u001f\u007f/\\]/.test(s), 'must be a file name without slashes or controls'),
});

// --- realtime ---

const RequestId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Send a message over the socket (the same as the REST send, lower latency). Answer: the stored Message. */
export const ChatSend = SendMessageRequest.extend({
  t: z.literal('chat.send'),
  id: RequestId,
  conversationId: Id,
}).strict();
/**
 * "I am typing" in a conversation (repeat it every few seconds while typing), or with `typing: false`
 * "I stopped" (the text was cleared): pushed to the other members' devices, never stored. Answer: {}.
 */
export const ChatTyping = z.strictObject({
  t: z.literal('chat.typing'),
  id: RequestId,
  conversationId: Id,
  typing: z.boolean().optional(),
});
/** Read (or, with `delivered`, received) up to `seq`. Answer: ReadResponse. */
export const ChatRead = z.strictObject({
  t: z.literal('chat.read'),
  id: RequestId,
  conversationId: Id,
  seq: z.number().int().min(0),
  delivered: z.boolean().optional(),
});
export const ChatClientFrames = [ChatSend, ChatTyping, ChatRead] as const;

/** What `hello.resume.chatSince` and `welcome.chat` carry (see the resume contract above). */
export const ChatWelcome = z.object({
  cursor: z.number().int(),
  changed: z.array(
    z.object({ conversationId: z.string(), headSeq: z.number().int(), editSeq: z.number().int() }),
  ),
});
export type ChatWelcome = z.infer<typeof ChatWelcome>;

/** Pushed: a new message (`new`), or a changed one (`edit`, `delete`: the message as it now is). */
export const ChatMessageFrame = z.object({
  t: z.literal('chat.message'),
  change: z.enum(['new', 'edit', 'delete']),
  message: Message,
});
/**
 * Pushed: a member is typing (`typing: true`, at most `ttlMs` without a repeat), or stopped
 * (`typing: false`). The server sends the stop itself when no repeat came within the TTL
 * (PARLEY_CHAT_TYPING_TTL_MS), when the member said they stopped, or just before their message, so a
 * client may simply show what it was told last; a client that went away mid-word still ends.
 */
export const ChatTypingFrame = z.object({
  t: z.literal('chat.typing'),
  conversationId: z.string(),
  userId: z.string(),
  typing: z.boolean(),
  ttlMs: z.number().int(),
});
/** Pushed: a member's receipts moved. */
export const ChatReceiptFrame = z.object({
  t: z.literal('chat.receipt'),
  conversationId: z.string(),
  userId: z.string(),
  readSeq: z.number().int(),
  deliveredSeq: z.number().int(),
});
/** Pushed: a conversation's title or members changed (fetch it again). */
export const ChatConversationFrame = z.object({
  t: z.literal('chat.conversation'),
  conversationId: z.string(),
  change: z.enum(['renamed', 'members']),
});
export const ChatServerFrames = [
  ChatMessageFrame,
  ChatTypingFrame,
  ChatReceiptFrame,
  ChatConversationFrame,
] as const;

/** Durable (per-user event log) chat event kinds and their data. */
export interface ChatEventData {
  /** Your read position moved (on another device): clear the badge. */
  'chat.read': { conversationId: string; readSeq: number; unread: number };
  /** You were added to, removed from, or left a conversation. */
  'chat.membership': { conversationId: string; change: 'added' | 'removed' | 'left'; by: string | null };
  /** You were mentioned in a message. */
  'chat.mention': { conversationId: string; messageId: string; seq: number; senderId: string };
}

/** Any chat push frame. */
export type ChatServerFrame = z.infer<(typeof ChatServerFrames)[number]>;
