/**
 * Chat for React: the conversation list with unread counts (and their total, which is the title badge),
 * and per open conversation its messages (the latest page, then older pages as the user scrolls back),
 * its members' receipts and who is typing. Everything comes from the SDK: REST for lists and pages,
 * the realtime pushes (in seq order, once each) for what changes.
 *
 * Unread counts stay right across devices: reading here sends a read receipt; reading on another
 * device arrives as the durable `chat.read` event with the server's count, and clears the badge here.
 * Each message from someone else is acknowledged as delivered; it is marked read when its
 * conversation is open and the tab is visible.
 */
import { useSyncExternalStore } from 'react';
import type { ParleyClient } from '@parley/sdk';
import type { Conversation, ConversationMember, Message, User } from '@parley/protocol';
import { attention } from '../notify/attention.ts';
import { navigate } from '../router/router.tsx';

export interface ListSnapshot {
  status: 'loading' | 'ready' | 'failed';
  conversations: Conversation[];
  unreadTotal: number;
  error: unknown;
}

/** A message being sent (shown greyed until stored). */
export interface PendingMessage {
  clientMessageId: string;
  text: string;
  replyTo: string | null;
  failed: unknown;
}

export interface ThreadSnapshot {
  status: 'loading' | 'ready' | 'failed';
  conversation: Conversation | null;
  members: ConversationMember[];
  /** Ascending by seq, no duplicates. */
  messages: Message[];
  pending: PendingMessage[];
  hasOlder: boolean;
  loadingOlder: boolean;
  /** User ids typing now (never the signed-in user). */
  typing: string[];
  error: unknown;
}

const emptyThread: ThreadSnapshot = {
  status: 'loading',
  conversation: null,
  members: [],
  messages: [],
  pending: [],
  hasOlder: false,
  loadingOlder: false,
  typing: [],
  error: null,
};

const PAGE = 50;

export class ChatStore {
  private list: ListSnapshot = { status: 'loading', conversations: [], unreadTotal: 0, error: null };
  private readonly threads = new Map<string, ThreadSnapshot>();
  private readonly users = new Map<string, User | Promise<User>>();
  private readonly listeners = new Set<() => void>();
  private readonly typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private loadingList: Promise<void> | null = null;
  private active: string | null = null;
  private readonly badge = attention.badge('chat');

  constructor(private readonly client: ParleyClient) {
    client.on('chat.message', ({ change, message }) => this.onMessage(change, message));
    client.on('chat.typing', (e) => this.onTyping(e.conversationId, e.userId, e.typing, e.ttlMs));
    client.on('chat.receipt', (e) => this.onReceipt(e.conversationId, e.userId, e.readSeq, e.deliveredSeq));
    client.on('chat.conversation', (e) => {
      void this.loadList();
      if (this.threads.has(e.conversationId)) void this.refreshConversation(e.conversationId);
    });
    client.on('event', (e) => {
      if (e.kind === 'chat.read') {
        const d = e.data as { conversationId: string; readSeq: number; unread: number };
        this.setUnread(d.conversationId, d.readSeq, d.unread);
      } else if (e.kind === 'chat.membership') void this.loadList();
    });
    // After a (re)connection: the counts may have moved while away.
    client.on('welcome', () => void this.loadList());
    if (typeof document !== 'undefined')
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible' && this.active) void this.markRead(this.active);
      });
  }

  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  getList = () => this.list;
  getThread = (id: string) => this.threads.get(id) ?? emptyThread;

  private changed(): void {
    for (const l of this.listeners) l();
  }

  private setList(patch: Partial<ListSnapshot>): void {
    this.list = { ...this.list, ...patch };
    this.list.unreadTotal = this.list.conversations.reduce(
      (n, c) => n + (c.me.leftSeq === null ? c.me.unread : 0),
      0,
    );
    this.badge.set(this.list.unreadTotal);
    this.changed();
  }

  private setThread(id: string, patch: Partial<ThreadSnapshot>): void {
    this.threads.set(id, { ...this.getThread(id), ...patch });
    this.changed();
  }

  /** Loads the conversation list (again); concurrent callers share one request. */
  loadList(): Promise<void> {
    this.loadingList ??= (async () => {
      try {
        const l = await this.client.chat.list();
        this.setList({ status: 'ready', conversations: sortByActivity(l.items), error: null });
      } catch (error) {
        if (this.list.status !== 'ready') this.setList({ status: 'failed', error });
      } finally {
        this.loadingList = null;
      }
    })();
    return this.loadingList;
  }

  // --- names ---

  private readonly memberIds = new Map<string, string[]>();

  /** A user's name, when known (fetched once on first ask). */
  userName(userId: string): string | null {
    const u = this.users.get(userId);
    if (u && !(u instanceof Promise)) return u.displayName;
    if (!u) {
      const p = this.client.directory.user(userId);
      this.users.set(userId, p);
      p.then(
        (user) => {
          this.users.set(userId, user);
          this.changed();
        },
        () => this.users.delete(userId),
      );
    }
    return null;
  }

  /** What a conversation is called: its title, else the other member's name (1:1), else "Group chat". */
  titleOf(c: Conversation, me: string): string {
    if (c.title) return c.title;
    if (c.peerId) return this.userName(c.peerId) ?? 'Conversation';
    const others = (this.memberIds.get(c.id) ?? []).filter((u) => u !== me);
    if (others.length === 0) return c.kind === 'direct' ? 'Conversation' : 'Group chat';
    return others.map((u) => this.userName(u) ?? 'Someone').join(', ');
  }

  // --- one conversation ---

  /** Opens a conversation: its members and latest page; it becomes the one read while visible. */
  async open(id: string): Promise<void> {
    this.active = id;
    if (this.getThread(id).status === 'ready') {
      void this.markRead(id);
      return;
    }
    this.setThread(id, { status: 'loading', error: null });
    try {
      const conversation = await this.client.chat.get(id);
      const page = await this.client.chat.history(id, { before: conversation.headSeq + 1, limit: PAGE });
      for (const m of conversation.members ?? []) if (m.user) this.users.set(m.userId, m.user);
      this.memberIds.set(
        id,
        (conversation.members ?? []).map((m) => m.userId),
      );
      const latest = page.messages;
      this.client.chat.follow(id, conversation.headSeq);
      this.setThread(id, {
        status: 'ready',
        conversation,
        members: conversation.members ?? [],
        messages: merge(this.getThread(id).messages, latest),
        hasOlder: page.hasMore,
      });
      void this.markRead(id);
    } catch (error) {
      this.setThread(id, { status: 'failed', error });
    }
  }

  /** No conversation is in front any more. */
  close(id: string): void {
    if (this.active === id) this.active = null;
  }

  private async refreshConversation(id: string): Promise<void> {
    try {
      const conversation = await this.client.chat.get(id);
      this.setThread(id, { conversation, members: conversation.members ?? [] });
    } catch {
      // a conversation we were removed from: the list reload says so
    }
  }

  /** The page before the oldest message shown (scrolling back). */
  async loadOlder(id: string): Promise<void> {
    const t = this.getThread(id);
    if (t.loadingOlder || !t.hasOlder) return;
    const first = t.messages[0]?.seq ?? 1;
    this.setThread(id, { loadingOlder: true });
    try {
      const page = await this.client.chat.history(id, { before: first, limit: PAGE });
      this.setThread(id, {
        messages: merge(this.getThread(id).messages, page.messages),
        hasOlder: page.hasMore,
        loadingOlder: false,
      });
    } catch (error) {
      this.setThread(id, { loadingOlder: false, error });
      throw error;
    }
  }

  /** Reads up to the newest message when the conversation is in front and the tab visible. */
  async markRead(id: string): Promise<void> {
    if (this.active !== id || (typeof document !== 'undefined' && document.visibilityState !== 'visible'))
      return;
    const c = this.list.conversations.find((x) => x.id === id);
    const head = Math.max(c?.headSeq ?? 0, this.getThread(id).messages.at(-1)?.seq ?? 0);
    if (head === 0 || (c && c.me.readSeq >= head)) return;
    const r = await this.client.chat.read(id, head);
    this.setUnread(id, r.readSeq, r.unread);
  }

  private setUnread(id: string, readSeq: number, unread: number): void {
    const conversations = this.list.conversations.map((c) =>
      c.id === id && readSeq >= c.me.readSeq ? { ...c, me: { ...c.me, readSeq, unread } } : c,
    );
    this.setList({ conversations });
  }

  // --- sending ---

  async send(
    id: string,
    text: string,
    o: { replyTo?: string | null; mentions?: string[]; attachments?: string[] } = {},
  ): Promise<void> {
    const clientMessageId = crypto.randomUUID();
    const pending: PendingMessage = { clientMessageId, text, replyTo: o.replyTo ?? null, failed: null };
    this.setThread(id, { pending: [...this.getThread(id).pending, pending] });
    try {
      const m = await this.client.chat.send(id, text, {
        clientMessageId,
        ...(o.replyTo ? { replyTo: o.replyTo } : {}),
        ...(o.mentions?.length ? { mentions: o.mentions } : {}),
        ...(o.attachments?.length ? { attachments: o.attachments } : {}),
      });
      this.onMessage('new', m);
    } catch (failed) {
      this.setThread(id, {
        pending: this.getThread(id).pending.map((p) =>
          p.clientMessageId === clientMessageId ? { ...p, failed } : p,
        ),
      });
      throw failed;
    }
  }

  /** Drops a send that failed (the user gave up on it). */
  discard(id: string, clientMessageId: string): void {
    this.setThread(id, {
      pending: this.getThread(id).pending.filter((p) => p.clientMessageId !== clientMessageId),
    });
  }

  async edit(id: string, messageId: string, text: string): Promise<void> {
    this.onMessage('edit', await this.client.chat.edit(id, messageId, text));
  }

  async remove(id: string, messageId: string): Promise<void> {
    this.onMessage('delete', await this.client.chat.delete(id, messageId));
  }

  // --- pushes ---

  private onMessage(change: 'new' | 'edit' | 'delete', m: Message): void {
    const me = this.client.user?.id;
    const id = m.conversationId;
    const t = this.threads.get(id);
    if (t) {
      this.setThread(id, {
        messages: merge(t.messages, [m]),
        pending: t.pending.filter((p) => p.clientMessageId !== m.clientMessageId),
        typing: t.typing.filter((u) => u !== m.senderId),
      });
    }
    const known = this.list.conversations.find((c) => c.id === id);
    if (!known) {
      void this.loadList();
      return;
    }
    if (change !== 'new' || m.seq <= known.headSeq) {
      if (change !== 'new') void this.loadList(); // a deleted unread message leaves the count
      return;
    }
    const mine = m.senderId === me;
    const updated: Conversation = {
      ...known,
      headSeq: m.seq,
      lastMessageAt: m.createdAt,
      me: mine ? { ...known.me, readSeq: m.seq } : { ...known.me, unread: known.me.unread + 1 },
    };
    this.setList({
      conversations: sortByActivity(this.list.conversations.map((c) => (c.id === id ? updated : c))),
    });
    if (mine) return;
    void this.client.chat.delivered(id, m.seq).catch(() => {});
    void this.markRead(id).catch(() => {});
    attention.notify({
      title: this.userName(m.senderId) ?? 'New message',
      body: m.text.slice(0, 140),
      tag: id,
      onClick: () => navigate(`/chat/${encodeURIComponent(id)}`),
    });
  }

  private onTyping(id: string, userId: string, typing: boolean, ttlMs: number): void {
    if (userId === this.client.user?.id) return;
    const key = `${id} ${userId}`;
    clearTimeout(this.typingTimers.get(key));
    this.typingTimers.delete(key);
    const t = this.threads.get(id);
    if (!t) return;
    const others = t.typing.filter((u) => u !== userId);
    if (typing) {
      // The server says when it stops; this is only a backstop for a lost connection.
      this.typingTimers.set(
        key,
        setTimeout(() => this.onTyping(id, userId, false, 0), ttlMs + 2000),
      );
      this.setThread(id, { typing: [...others, userId] });
    } else this.setThread(id, { typing: others });
  }

  private onReceipt(id: string, userId: string, readSeq: number, deliveredSeq: number): void {
    const t = this.threads.get(id);
    if (t)
      this.setThread(id, {
        members: t.members.map((m) => (m.userId === userId ? { ...m, readSeq, deliveredSeq } : m)),
      });
    // My own read position moved (another device of mine): the count follows from the server.
    if (userId === this.client.user?.id) void this.loadList();
  }
}

function merge(have: Message[], more: Message[]): Message[] {
  const bySeq = new Map(have.map((m) => [m.seq, m]));
  for (const m of more) {
    const old = bySeq.get(m.seq);
    if (!old || m.editSeq >= old.editSeq) bySeq.set(m.seq, m);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function sortByActivity(cs: Conversation[]): Conversation[] {
  const at = (c: Conversation) => c.lastMessageAt ?? c.createdAt;
  return [...cs].sort((a, b) => (at(a) < at(b) ? 1 : at(a) > at(b) ? -1 : 0));
}

const stores = new WeakMap<ParleyClient, ChatStore>();

/** The one chat store of a client. */
export function chatStoreOf(client: ParleyClient): ChatStore {
  let s = stores.get(client);
  if (!s) {
    s = new ChatStore(client);
    stores.set(client, s);
  }
  return s;
}

export function useChatList(store: ChatStore): ListSnapshot {
  return useSyncExternalStore(store.subscribe, store.getList);
}

export function useThread(store: ChatStore, id: string): ThreadSnapshot {
  return useSyncExternalStore(store.subscribe, () => store.getThread(id));
}
