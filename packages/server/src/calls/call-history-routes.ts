/**
 * Call history routes: the signed-in user's own calls and missed-call badge. History belongs to users,
 * so an API key (which acts for a tenant, not a person) gets 403.
 */
import {
  CallHistoryPage,
  CallHistoryQuery,
  MarkCallsSeenRequest,
  type CallPrice,
  MarkCallsSeenResponse,
  ParleyError,
} from '@parley/protocol';
import { defineRoute, type AnyRoute, type RouteContext } from '../http/route.ts';
import type { TenantScope } from '../directory/scope.ts';
import type { CallHistory } from './call-history.ts';

/** The prices of a user's rated calls (billing's CallPrices), by call id. */
export interface CallPriceSource {
  of(scope: TenantScope, userId: string, callIds: readonly string[]): Promise<Map<string, CallPrice>>;
}

function caller(ctx: Pick<RouteContext<unknown, unknown, unknown>, 'principal'>): string {
  if (ctx.principal?.kind !== 'user')
    throw new ParleyError('forbidden', 'call history belongs to signed-in users');
  return ctx.principal.id;
}

export function callHistoryRoutes(
  history: Pick<CallHistory, 'page' | 'markSeen'>,
  prices?: CallPriceSource,
): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/calls/history',
      tag: 'calls',
      summary:
        "The signed-in user's calls, newest first (placed and received; `filter=missed` for missed calls only), paged back with `before`, and the count of missed calls not yet seen; a phone call the user placed carries its `price` once rated (amount, pool minutes, rate, increments, prefix, deck version)",
      access: 'user',
      query: CallHistoryQuery,
      response: CallHistoryPage,
      handler: async (ctx) => {
        const userId = caller(ctx);
        const page = await history.page(ctx.scope, userId, ctx.query);
        if (!prices) return page;
        // The calls this user placed carry what they cost (a phone call, once rated).
        const placed = page.calls.filter((c) => c.direction === 'outgoing').map((c) => c.callId);
        const priced = await prices.of(ctx.scope, userId, placed);
        return {
          ...page,
          calls: page.calls.map((c) => {
            const price = c.direction === 'outgoing' ? priced.get(c.callId) : undefined;
            return price ? { ...c, price } : c;
          }),
        };
      },
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
