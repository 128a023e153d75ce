/** Shared test fixtures for billing: a small hand-priced GB sell deck and call records. */
import { randomUUID } from 'node:crypto';
import type { CallRecord } from '../../src/billing/call-record.ts';

export const GB_DECK_V1 = [
  'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment',
  '44,United Kingdom fixed,domestic,0.0100,0.05,60,60',
  '447,United Kingdom mobile,mobile,0.0600,0.05,30,6',
  '4479,United Kingdom mobile (MVNO),mobile,0.03,0,1,1',
  '1,United States,international,0.02,0.10,1,1',
  '33,France,international,0.045,0,30,6',
  '44800,United Kingdom freephone,toll-free,0,0,1,1',
  '449,United Kingdom premium,premium,1.50,0.25,60,60',
  '44999,United Kingdom emergency,emergency,0,0,1,1',
].join('\n');

/** Version 2: domestic doubles. */
export const GB_DECK_V2 = GB_DECK_V1.replace(
  '44,United Kingdom fixed,domestic,0.0100',
  '44,United Kingdom fixed,domestic,0.0200',
);

/** An outbound call answered at `startedAt` lasting `seconds` (fractional allowed). */
export function call(destination: string, seconds: number, opts: Partial<CallRecord> = {}): CallRecord {
  const startedAt = opts.startedAt ?? Date.UTC(2026, 10, 10, 12, 0, 0);
  const answeredAt = opts.answeredAt === undefined ? startedAt : opts.answeredAt;
  return {
    id: `call-${randomUUID()}`,
    tenantId: 't1',
    userId: 'u1',
    direction: 'outbound',
    destination,
    startedAt,
    answeredAt,
    endedAt: (answeredAt ?? startedAt) + Math.round(seconds * 1000),
    ...opts,
  };
}
