/**
 * REST companions of the realtime protocol: a user's durable events (for a client whose resume window
 * has passed), an administrator's notice to a user, and one user's presence for clients without a socket.
 */
import { z } from 'zod';
import {
  EventsPage,
  EventsQuery,
  Id,
  OwnPresence,
  PresenceSet,
  ParleyError,
  Presence,
  SendNoticeRequest,
  SendNoticeResponse,
} from '@parley/protocol';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { EventLog } from './event-log.ts';
import type { Directory } from '../directory/directory.ts';
import type { PresenceService } from '../presence/presence-service.ts';

export interface RealtimeRouteDeps {
  events: Pick<EventLog, 'append' | 'after' | 'head'>;
  directory: Pick<Directory, 'getUser'>;
  presence: Pick<PresenceService, 'get' | 'manualOf' | 'set'>;
}

const UserParams = z.strictObject({ userId: Id });

export function realtimeRoutes({ events, directory, presence }: RealtimeRouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/me/events',
      tag: 'realtime',
      summary: "The signed-in user's durable events after a seq, in order",
      access: 'user',
      query: EventsQuery,
      response: EventsPage,
      handler: async ({ principal, query }) => {
        if (principal?.kind !== 'user')
          throw new ParleyError('forbidden', 'events belong to signed-in users');
        const [list, lastSeq] = await Promise.all([
          events.after(principal.id, query.after, query.limit),
          events.head(principal.id),
        ]);
        return { events: list, lastSeq };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/users/:userId/notices',
      tag: 'realtime',
      summary: 'Send a user a notice, delivered as a durable event (tenant admin)',
      access: 'admin',
      params: UserParams,
      resources: { userId: 'user' },
      body: SendNoticeRequest,
      example: { text: 'The office is closed on Friday.' },
      response: SendNoticeResponse,
      status: 201,
      handler: async ({ scope, params, body, actor }) => {
        if (!(await directory.getUser(scope, params.userId)))
          throw new ParleyError('not_found', 'no such user');
        const e = await events.append(scope, params.userId, 'notice', {
          text: body.text,
          from: actor.address,
        });
        return { seq: e.seq };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/me/presence',
      tag: 'realtime',
      summary: 'Your own presence as others see it, and the manual state behind it',
      access: 'user',
      response: OwnPresence,
      handler: async ({ principal }) => {
        if (principal?.kind !== 'user')
          throw new ParleyError('forbidden', 'presence belongs to signed-in users');
        return { presence: presence.get(principal.id), manual: presence.manualOf(principal.id) };
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/me/presence',
      tag: 'realtime',
      summary:
        'Set your manual state, status note or out-of-office message (omitted: unchanged; null: cleared)',
      access: 'user',
      body: PresenceSet,
      example: {
        manual: { availability: 'busy', until: '2030-01-01T17:00:00Z' },
        note: { text: 'Quarter close' },
      },
      response: OwnPresence,
      handler: async ({ principal, body }) => {
        if (principal?.kind !== 'user')
          throw new ParleyError('forbidden', 'presence belongs to signed-in users');
        const p = await presence.set(principal.tenantId, principal.id, body);
        return { presence: p, manual: presence.manualOf(principal.id) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/presence/:userId',
      tag: 'realtime',
      summary: "One user's current presence (realtime clients subscribe instead)",
      access: 'user',
      params: UserParams,
      resources: { userId: 'user' },
      response: Presence,
      handler: async ({ scope, params }) => {
        if (!(await directory.getUser(scope, params.userId)))
          throw new ParleyError('not_found', 'no such user');
        return presence.get(params.userId);
      },
    }),
  ];
}
