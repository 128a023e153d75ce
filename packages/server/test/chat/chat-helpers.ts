/**
 * Chat test helpers: a realtime socket that says hello and answers requests by id, with a frame log to
 * wait on; and REST shorthands for conversations and messages.
 */
import http from 'node:http';
import WebSocket from 'ws';
import type { Message, Welcome } from '@parley/protocol';
import type { TestServer } from '../helpers/server.ts';
import { waitFor } from '../realtime/clients.ts';

export interface ChatSocket {
  ws: WebSocket;
  frames: Array<Record<string, unknown>>;
  welcome: Welcome;
  request<T = unknown>(frame: Record<string, unknown>): Promise<T>;
  /** Resolves with the first frame (already received or later) matching `pred`. */
  waitFrame(
    pred: (f: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** The `chat.message` frames received, in arrival order. */
  messages(change?: string): Message[];
  close(): Promise<void>;
}

let nextId = 1;

export async function chatSocket(
  s: TestServer,
  token: string,
  resume?: { lastSeq: number; chatSince?: number },
): Promise<ChatSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${s.app.config.port}/api/realtime`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const frames: Array<Record<string, unknown>> = [];
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString()) as Record<string, unknown>;
    frames.push(f);
    const re = f.re as number | undefined;
    if (re !== undefined && waiting.has(re)) {
      const w = waiting.get(re)!;
      waiting.delete(re);
      if (f.t === 'error') w.reject(Object.assign(new Error(String(f.message)), { code: f.code }));
      else w.resolve(f.data);
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const request = <T>(frame: Record<string, unknown>) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      ws.send(JSON.stringify({ ...frame, id }));
    });
  const welcome = await request<Welcome>({ t: 'hello', v: 1, ...(resume ? { resume } : {}) });
  return {
    ws,
    frames,
    welcome,
    request,
    waitFrame: (pred, timeoutMs = 5000) => waitFor(() => frames.find(pred), timeoutMs, 'a frame'),
    messages: (change) =>
      frames
        .filter((f) => f.t === 'chat.message' && (change === undefined || f.change === change))
        .map((f) => f.message as Message),
    close: () =>
      new Promise<void>((r) => {
        if (ws.readyState === WebSocket.CLOSED) return r();
        ws.once('close', () => r());
        ws.close(1000);
      }),
  };
}

export async function openConversation(
  s: TestServer,
  token: string,
  members: string[],
  title?: string,
): Promise<{ id: string; status: number }> {
  const r = await s.http.post('/api/conversations', { members, ...(title ? { title } : {}) }, { token });
  if (r.status !== 201 && r.status !== 200) throw new Error(`create conversation: ${r.status} ${r.text}`);
  return { id: (r.json as { id: string }).id, status: r.status };
}

let clientSeq = 0;

export async function send(
  s: TestServer,
  token: string,
  conversationId: string,
  text: string,
  clientMessageId = `c${process.pid}-${++clientSeq}`,
): Promise<Message> {
  const r = await s.http.post(
    `/api/conversations/${conversationId}/messages`,
    { text, clientMessageId },
    { token },
  );
  if (r.status !== 201) throw new Error(`send: ${r.status} ${r.text}`);
  return r.json as Message;
}

export async function history(s: TestServer, token: string, conversationId: string, query = '') {
  const r = await s.http.get(`/api/conversations/${conversationId}/messages${query}`, { token });
  if (r.status !== 200) throw new Error(`history: ${r.status} ${r.text}`);
  return r.json as { messages: Message[]; hasMore: boolean; headSeq: number; editSeq: number };
}

/** A GET answered with its raw bytes (files and thumbnails). */
export function getBytes(
  s: TestServer,
  token: string,
  path: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, s.url);
    http
      .get(
        {
          hostname: url.hostname,
          port: url.port,
          path: url.pathname,
          headers: { authorization: `Bearer ${token}` },
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      )
      .on('error', reject);
  });
}
