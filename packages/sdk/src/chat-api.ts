/**
 * Chat in the SDK: conversations, messages, receipts, typing, unread counts, search and files.
 *
 * Sends are idempotent: `send` picks one `clientMessageId` and retries under it (over the socket when
 * it is open, else HTTP) until the server answers, so a lost acknowledgement never makes a second copy.
 * Live pushes are handed out per conversation in seq order, once each: a push that skips ahead makes
 * the API fetch the missing messages first (`?after=`), and after a reconnection the conversations the
 * welcome lists as changed are caught up the same way (the resume contract in protocol/src/chat.ts).
 */
import {
  ParleyError,
  type ChatServerFrame,
  type Conversation,
  type FileInfo,
  type Message,
  type MessagePage,
  type Welcome,
} from '@parley/protocol';
import type { RestClient } from './rest-client.ts';
import type { RealtimeLink } from './realtime-link.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';

/** What the chat API hands to the client's typed events. */
export interface ChatEvents {
  /** A new message, or an edited or deleted one, in order per conversation, once each. */
  message: { change: 'new' | 'edit' | 'delete'; message: Message };
  /** `typing` false: they stopped (the server says so itself when no repeat came within `ttlMs`). */
  typing: { conversationId: string; userId: string; typing: boolean; ttlMs: number };
  receipt: { conversationId: string; userId: string; readSeq: number; deliveredSeq: number };
  conversation: { conversationId: string; change: 'renamed' | 'members' };
}

export interface SendOptions {
  replyTo?: string;
  mentions?: string[];
  attachments?: string[];
  /** Reuse an id (a send retried after a restart of the app); default: a fresh one. */
  clientMessageId?: string;
  /** Attempts before giving up (default 6). */
  attempts?: number;
}

const enc = encodeURIComponent;

export class ChatApi {
  /** Highest seq handed out per conversation (live or caught up). */
  private readonly heads = new Map<string, number>();
  private readonly catchingUp = new Map<string, Promise<void>>();

  constructor(
    private readonly rest: Pick<RestClient, 'request' | 'baseUrl'>,
    private readonly link: Pick<RealtimeLink, 'request' | 'state'>,
    private readonly emit: <K extends keyof ChatEvents>(kind: K, e: ChatEvents[K]) => void,
    private readonly backoff: BackoffOptions,
    private readonly token: () => Promise<string>,
  ) {}

  // --- conversations ---

  /** The 1:1 conversation with one user (the same every time), or a new group. */
  open(members: string[], title?: string): Promise<Conversation> {
    return this.rest.request('POST', '/api/conversations', { members, ...(title ? { title } : {}) });
  }

  list(): Promise<{ items: Conversation[]; unreadTotal: number }> {
    return this.rest.request('GET', '/api/conversations');
  }

  get(id: string): Promise<Conversation> {
    return this.rest.request('GET', `/api/conversations/${enc(id)}`);
  }

  rename(id: string, title: string | null): Promise<Conversation> {
    return this.rest.request('PATCH', `/api/conversations/${enc(id)}`, { title });
  }

  addMember(id: string, userId: string): Promise<Conversation> {
    return this.rest.request('POST', `/api/conversations/${enc(id)}/members/${enc(userId)}`);
  }

  /** Removes a member (a group's owner), or leaves with your own id. */
  removeMember(id: string, userId: string): Promise<void> {
    return this.rest.request('DELETE', `/api/conversations/${enc(id)}/members/${enc(userId)}`);
  }

  // --- messages ---

  history(
    id: string,
    q: { after?: number; before?: number; editedAfter?: number; limit?: number } = {},
  ): Promise<MessagePage> {
    const qs = Object.entries(q)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    return this.rest.request('GET', `/api/conversations/${enc(id)}/messages${qs ? `?${qs}` : ''}`);
  }

  /** Sends a message, retrying under one clientMessageId until stored; resolves to the stored message. */
  async send(conversationId: string, text: string, o: SendOptions = {}): Promise<Message> {
    const clientMessageId = o.clientMessageId ?? randomId();
    const body = {
      text,
      clientMessageId,
      ...(o.replyTo ? { replyTo: o.replyTo } : {}),
      ...(o.mentions ? { mentions: o.mentions } : {}),
      ...(o.attachments ? { attachments: o.attachments } : {}),
    };
    const attempts = o.attempts ?? 6;
    for (let attempt = 1; ; attempt++) {
      try {
        const m =
          this.link.state === 'open'
            ? await this.link.request({ t: 'chat.send', conversationId, ...body })
            : await this.rest.request<Message>(
                'POST',
                `/api/conversations/${enc(conversationId)}/messages`,
                body,
              );
        return m;
      } catch (err) {
        // Only a lost answer is retried; a refusal (409, 413, 404, 429...) is the caller's to see.
        const lost = err instanceof ParleyError && (err.code === 'unavailable' || err.code === 'internal');
        if (!lost || attempt >= attempts) throw err;
        await new Promise((r) => setTimeout(r, backoffDelay(attempt, this.backoff)));
      }
    }
  }

  edit(conversationId: string, messageId: string, text: string): Promise<Message> {
    return this.rest.request(
      'PATCH',
      `/api/conversations/${enc(conversationId)}/messages/${enc(messageId)}`,
      {
        text,
      },
    );
  }

  delete(conversationId: string, messageId: string): Promise<Message> {
    return this.rest.request(
      'DELETE',
      `/api/conversations/${enc(conversationId)}/messages/${enc(messageId)}`,
    );
  }

  // --- receipts, typing, unread ---

  /** Read up to `seq` (clears the unread count on every device). */
  read(conversationId: string, seq: number): Promise<{ readSeq: number; unread: number }> {
    return this.link.state === 'open'
      ? this.link.request({ t: 'chat.read', conversationId, seq })
      : this.rest.request('POST', `/api/conversations/${enc(conversationId)}/read`, { seq });
  }

  /** Received up to `seq` (a delivered receipt; needs the socket). */
  async delivered(conversationId: string, seq: number): Promise<void> {
    await this.link.request({ t: 'chat.read', conversationId, seq, delivered: true });
  }

  /**
   * "I am typing": repeat it every few seconds while typing (the server ends it for the others when no
   * repeat comes within its TTL); `typing` false says "stopped" at once (the text was cleared).
   */
  async typing(conversationId: string, typing = true): Promise<void> {
    await this.link.request({ t: 'chat.typing', conversationId, ...(typing ? {} : { typing: false }) });
  }

  async unread(): Promise<{ total: number; byConversation: Map<string, number> }> {
    const l = await this.list();
    return { total: l.unreadTotal, byConversation: new Map(l.items.map((c) => [c.id, c.me.unread])) };
  }

  // --- search and files ---

  search(q: string, o: { limit?: number; offset?: number; conversationId?: string } = {}) {
    const qs = [`q=${enc(q)}`, ...Object.entries(o).map(([k, v]) => `${k}=${enc(String(v))}`)].join('&');
    return this.rest.request<{
      hits: Array<{ message: Message; snippet: string; highlights: Array<[number, number]>; rank: number }>;
      nextOffset: number | null;
    }>('GET', `/api/search/messages?${qs}`);
  }

  /** The URL of a file (GET it with the access token as a Bearer header). */
  fileUrl(fileId: string): string {
    return new URL(`/api/files/${enc(fileId)}`, this.rest.baseUrl).toString();
  }

  /**
   * A file's bytes, or with `thumbnail` an image's thumbnail (`FileInfo.image.thumbnail`), as a Blob:
   * fetched with the access token, so a browser app shows it through `URL.createObjectURL`.
   */
  async fetchFile(fileId: string, o: { thumbnail?: boolean } = {}): Promise<Blob> {
    const res = await fetch(
      new URL(`/api/files/${enc(fileId)}${o.thumbnail ? '/thumbnail' : ''}`, this.rest.baseUrl),
      {
        headers: { authorization: `Bearer ${await this.token()}` },
      },
    );
    if (res.status >= 400) {
      const json = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
      throw new ParleyError(
        (json.error?.code ?? 'internal') as 'internal',
        json.error?.message ?? `HTTP ${res.status}`,
      );
    }
    return res.blob();
  }

  /**
   * Uploads bytes to a conversation (the server streams them to disk, never buffering them). With
   * `onProgress` in a browser, the upload goes through XMLHttpRequest, whose upload events report the
   * bytes sent (fetch has none).
   */
  async upload(
    conversationId: string,
    name: string,
    body: Blob | ArrayBuffer | Uint8Array,
    o: { onProgress?: (sent: number, total: number) => void } = {},
  ): Promise<FileInfo> {
    const token = await this.token();
    const url = new URL(
      `/api/files?conversationId=${enc(conversationId)}&name=${enc(name)}`,
      this.rest.baseUrl,
    );
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' };
    const Xhr = (globalThis as { XMLHttpRequest?: new () => XhrLike }).XMLHttpRequest;
    const { status, json } =
      o.onProgress && Xhr
        ? await xhrUpload(Xhr, url.toString(), headers, body, o.onProgress)
        : await fetch(url, { method: 'POST', headers, body: body as BodyInit }).then(async (res) => ({
            status: res.status,
            json: (await res.json()) as unknown,
          }));
    const answer = json as FileInfo & { error?: { code: string; message: string } };
    if (status >= 400)
      throw new ParleyError(
        (answer.error?.code ?? 'internal') as 'internal',
        answer.error?.message ?? `HTTP ${status}`,
      );
    return answer;
  }

  // --- live pushes and resume ---

  /** A chat push from the link. */
  received(f: ChatServerFrame): void {
    switch (f.t) {
      case 'chat.message':
        if (f.change !== 'new') return this.emit('message', { change: f.change, message: f.message });
        return void this.ordered(f.message);
      case 'chat.typing':
        return this.emit('typing', {
          conversationId: f.conversationId,
          userId: f.userId,
          typing: f.typing,
          ttlMs: f.ttlMs,
        });
      case 'chat.receipt':
        return this.emit('receipt', {
          conversationId: f.conversationId,
          userId: f.userId,
          readSeq: f.readSeq,
          deliveredSeq: f.deliveredSeq,
        });
      case 'chat.conversation':
        return this.emit('conversation', { conversationId: f.conversationId, change: f.change });
    }
  }

  /** After a welcome: catch up every conversation it lists as changed beyond what was handed out. */
  resumed(w: Welcome): void {
    for (const c of w.chat?.changed ?? [])
      if (this.heads.has(c.conversationId) && c.headSeq > this.heads.get(c.conversationId)!)
        void this.catchUp(c.conversationId);
  }

  /** Starts tracking a conversation from `seq` (what the app already shows); pushes continue from there. */
  follow(conversationId: string, seq: number): void {
    this.heads.set(conversationId, Math.max(seq, this.heads.get(conversationId) ?? 0));
  }

  private async ordered(m: Message): Promise<void> {
    const head = this.heads.get(m.conversationId);
    if (head === undefined) {
      // Not followed yet: start at this message.
      this.heads.set(m.conversationId, m.seq);
      return this.emit('message', { change: 'new', message: m });
    }
    if (m.seq <= head) return; // seen (a retry's echo, or caught up already)
    if (m.seq === head + 1 && !this.catchingUp.has(m.conversationId)) {
      this.heads.set(m.conversationId, m.seq);
      return this.emit('message', { change: 'new', message: m });
    }
    await this.catchUp(m.conversationId); // a gap: fetch what lies between, in order
    // A fetch already under way may have missed it: go again until it is handed out.
    if (m.seq > (this.heads.get(m.conversationId) ?? 0)) await this.ordered(m);
  }

  private catchUp(conversationId: string): Promise<void> {
    let p = this.catchingUp.get(conversationId);
    if (p) return p;
    p = (async () => {
      try {
        for (;;) {
          const head = this.heads.get(conversationId) ?? 0;
          const page = await this.history(conversationId, { after: head, limit: 200 });
          for (const m of page.messages)
            if (m.seq > (this.heads.get(conversationId) ?? 0)) {
              this.heads.set(conversationId, m.seq);
              this.emit('message', { change: 'new', message: m });
            }
          if (!page.hasMore) return;
        }
      } finally {
        this.catchingUp.delete(conversationId);
      }
    })();
    this.catchingUp.set(conversationId, p);
    return p;
  }
}

/** The part of a browser's XMLHttpRequest an upload with progress uses. */
interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: unknown): void;
  status: number;
  responseText: string;
  upload: { onprogress: ((e: { loaded: number; total: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
}

function xhrUpload(
  Xhr: new () => XhrLike,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  onProgress: (sent: number, total: number) => void,
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const x = new Xhr();
    x.open('POST', url);
    for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
    x.upload.onprogress = (e) => onProgress(e.loaded, e.total);
    x.onload = () => {
      let json: unknown = {};
      try {
        json = JSON.parse(x.responseText);
      } catch {
        // not JSON: the status says what happened
      }
      resolve({ status: x.status, json });
    };
    x.onerror = () => reject(new ParleyError('unavailable', 'the upload did not reach the server'));
    x.send(body);
  });
}

function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return c?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
