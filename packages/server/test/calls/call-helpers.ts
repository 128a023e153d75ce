/** Helpers of the call record tests: a placed call for the sink, a user's history and events over HTTP. */
import assert from 'node:assert/strict';
import type { CallHistoryPage, DurableEvent } from '@parley/protocol';
import type { TestServer } from '../helpers/server.ts';
import { newId } from '../../src/ids.ts';
import type { CallOpened } from '../../src/calls/record-sink.ts';

export type User = { id: string; address: string; token: string };

/** A call placed by `from` to `to` (same tenant) at `at`. */
export function placed(tenantId: string, from: User, to: User, at: number, video = false): CallOpened {
  return {
    callId: newId('call'),
    caller: { tenantId, userId: from.id, number: null },
    callee: { tenantId, userId: to.id, number: null },
    callerDevice: `dev-${from.id}`,
    video,
    at,
  };
}

export async function historyOf(s: TestServer, u: User, query = ''): Promise<CallHistoryPage> {
  const r = await s.http.get(`/api/calls/history${query}`, { token: u.token });
  assert.equal(r.status, 200, r.text);
  return r.json as CallHistoryPage;
}

export async function eventsOf(s: TestServer, u: User, kind?: string): Promise<DurableEvent[]> {
  const r = await s.http.get('/api/me/events?after=0', { token: u.token });
  assert.equal(r.status, 200, r.text);
  const events = (r.json as { events: DurableEvent[] }).events;
  return kind ? events.filter((e) => e.kind === kind) : events;
}
