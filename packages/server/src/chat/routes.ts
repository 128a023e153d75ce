/**
 * Chat's HTTP routes (conversations, members, messages, receipts). Conversations belong to users: API
 * keys have none. A conversation the caller is not (and never was) a member of answers 404, exactly like
 * another tenant's id, so ids cannot be probed.
 */
import { z } from 'zod';
import {
  Conversation,
  ConversationList,
  CreateConversationRequest,
  EditMessageRequest,
  Id,
  Message,
  MessagePage,
  MessagesQuery,
  ParleyError,
  ReadRequest,
  ReadResponse,
  SearchQuery,
  SearchResults,
  SendMessageRequest,
  UpdateConversationRequest,
} from '@parley/protocol';
import { defineRoute, type AnyRoute, type RouteContext } from '../http/route.ts';
import type { ChatService } from './chat-service.ts';
import type { ConversationStore } from './conversations.ts';
import type { Timeline } from './timeline.ts';
import type { MessageSearch } from './search.ts';

export interface ChatRouteDeps {
  chat: ChatService;
  conversations: Pick<ConversationStore, 'list' | 'get'>;
  timeline: Pick<Timeline, 'page'>;
  search: Pick<MessageSearch, 'search'>;
}

const ConversationParams = z.strictObject({ id: Id });
const MemberParams = z.strictObject({ id: Id, userId: Id });
const MessageParams = z.strictObject({ id: Id, messageId: Id });

/** The signed-in user (chat is for users, not API keys). */
export function chatUser(ctx: Pick<RouteContext<unknown, unknown, unknown>, 'principal'>): string {
  if (ctx.principal?.kind !== 'user') throw new ParleyError('forbidden', 'chat belongs to signed-in users');
  return ctx.principal.id;
}

export function chatRoutes({ chat, conversations, timeline, search }: ChatRouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/search/messages',
      tag: 'chat',
      summary:
        'Full-text search of the messages in your conversations (up to leaving, for ones you left), best first, with plain-text snippets and highlight ranges',
      access: 'user',
      query: SearchQuery,
      response: SearchResults,
      handler: (ctx) => search.search(ctx.scope, chatUser(ctx), ctx.query),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/conversations',
      tag: 'chat',
      summary:
        'Start a conversation (201; 200 when the 1:1 chat already existed): one other member and no title is the 1:1 chat with them (the same one every time); otherwise a group',
      access: 'user',
      body: CreateConversationRequest,
      example: { members: ['usr_example'], title: 'Project Falcon' },
      response: Conversation,
      handler: async (ctx) => {
        const r = await chat.createConversation(ctx.scope, chatUser(ctx), ctx.body);
        if (r.created) ctx.reply.status(201);
        return r.conversation;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/conversations',
      tag: 'chat',
      summary: 'Your conversations (current and former), most recently active first, with unread counts',
      access: 'user',
      response: ConversationList,
      handler: (ctx) => conversations.list(ctx.scope, chatUser(ctx)),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/conversations/:id',
      tag: 'chat',
      summary: 'One conversation with its members and their receipts',
      access: 'user',
      params: ConversationParams,
      resources: { id: 'conversation' },
      response: Conversation,
      handler: (ctx) => conversations.get(ctx.scope, chatUser(ctx), ctx.params.id),
    }),
    defineRoute({
      method: 'PATCH',
      url: '/api/conversations/:id',
      tag: 'chat',
      summary: 'Rename a group conversation (null clears the title)',
      access: 'user',
      params: ConversationParams,
      resources: { id: 'conversation' },
      body: UpdateConversationRequest,
      example: { title: 'Falcon launch' },
      response: Conversation,
      handler: (ctx) => chat.rename(ctx.scope, chatUser(ctx), ctx.params.id, ctx.body.title),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/conversations/:id/members/:userId',
      tag: 'chat',
      summary: 'Add a user of your organisation to a group conversation',
      access: 'user',
      params: MemberParams,
      resources: { id: 'conversation', userId: 'user' },
      response: Conversation,
      handler: (ctx) => chat.addMember(ctx.scope, chatUser(ctx), ctx.params.id, ctx.params.userId),
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/conversations/:id/members/:userId',
      tag: 'chat',
      summary:
        'Leave a conversation (your own id) or remove a member (group owner): they keep the history up to now',
      access: 'user',
      params: MemberParams,
      resources: { id: 'conversation', userId: 'user' },
      response: z.void(),
      status: 204,
      handler: (ctx) => chat.removeMember(ctx.scope, chatUser(ctx), ctx.params.id, ctx.params.userId),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/conversations/:id/messages',
      tag: 'chat',
      summary:
        'The timeline: ?after=SEQ (catch up, ascending), ?before=SEQ (scroll back), ?editedAfter=EDITSEQ (changes); none: the latest page',
      access: 'user',
      params: ConversationParams,
      resources: { id: 'conversation' },
      query: MessagesQuery,
      response: MessagePage,
      handler: (ctx) => timeline.page(ctx.scope, chatUser(ctx), ctx.params.id, ctx.query),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/conversations/:id/messages',
      tag: 'chat',
      summary:
        'Send a message; answered (201) after it is stored. A retry with the same clientMessageId returns the stored message (200), never a second copy',
      access: 'user',
      params: ConversationParams,
      resources: { id: 'conversation' },
      body: SendMessageRequest,
      example: { text: 'Hello <b>team</b>', clientMessageId: 'c-example-1' },
      response: Message,
      handler: async (ctx) => {
        const r = await chat.send(ctx.scope, chatUser(ctx), ctx.params.id, ctx.body);
        if (!r.duplicate) ctx.reply.status(201);
        return r.message;
      },
    }),
    defineRoute({
      method: 'PATCH',
      url: '/api/conversations/:id/messages/:messageId',
      tag: 'chat',
      summary: 'Edit your message (every device gets the new text)',
      access: 'user',
      params: MessageParams,
      resources: { id: 'conversation', messageId: 'message' },
      body: EditMessageRequest,
      example: { text: 'Hello team (edited)' },
      response: Message,
      handler: (ctx) =>
        chat.edit(ctx.scope, chatUser(ctx), ctx.params.id, ctx.params.messageId, ctx.body.text),
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/conversations/:id/messages/:messageId',
      tag: 'chat',
      summary: "Delete your message (or any, as a group's owner): a tombstone keeps its seq",
      access: 'user',
      params: MessageParams,
      resources: { id: 'conversation', messageId: 'message' },
      response: Message,
      handler: (ctx) => chat.delete(ctx.scope, chatUser(ctx), ctx.params.id, ctx.params.messageId),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/conversations/:id/read',
      tag: 'chat',
      summary: 'Mark read up to a seq (read receipt; clears the unread count on every device)',
      access: 'user',
      params: ConversationParams,
      resources: { id: 'conversation' },
      body: ReadRequest,
      example: { seq: 0 },
      response: ReadResponse,
      handler: (ctx) => chat.read(ctx.scope, chatUser(ctx), ctx.params.id, ctx.body.seq),
    }),
  ];
}
