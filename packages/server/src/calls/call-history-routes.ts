/**
 * Call history routes: the signed-in user's own calls and missed-call badge. History belongs to users,
 * so an API key (which acts for a tenant, not a person) gets 403.
 */
import {
  CallHistoryPage,
  CallHistoryQuery,
  MarkCallsSeenRequest,
  MarkCallsSeenResponse,
  ParleyError,
} from '@parley/protocol';
import { defineRoute, type AnyRoute, type RouteContext } from '../http/route.ts';
import type { CallHistory } from './call-history.ts';

function caller(ctx: Pick<RouteContext<unknown, unknown, unknown>, 'principal'>): string {
  if (ctx.principal?.kind !== 'user')
    throw new ParleyError('forbidden', 'call history belongs to signed-in users');
  return ctx.principal.id;
}

export function callHistoryRoutes(history: Pick<CallHistory, 'page' | 'markSeen'>): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/calls/history',
      tag: 'calls',
      summary:
        "The signed-in user's calls, newest first (placed and received; `filter=missed` for missed calls only), paged back with `before`, and the count of missed calls not yet seen",
      access: 'user',
      query: CallHistoryQuery,
      response: CallHistoryPage,
      handler: (ctx) => history.page(ctx.scope, caller(ctx), ctx.query),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/calls/history/seen',
      tag: 'calls',
      summary:
        'Mark missed calls seen (all, or those up to and including `upTo`); answers the new unseen count',
      access: 'user',
      body: MarkCallsSeenRequest,
      example: {},
      response: MarkCallsSeenResponse,
      handler: (ctx) => history.markSeen(ctx.scope, caller(ctx), ctx.body),
    }),
  ];
}
