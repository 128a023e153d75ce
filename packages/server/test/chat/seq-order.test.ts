/**
 * Delivery pushes a conversation's new messages in seq order even when their events arrive out of
 * order (concurrent sends on PostgreSQL publish after their own COMMITs, which return in any order):
 * a message waits for its predecessor, and a gap that never fills is given up after the wait.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Message } from '@parley/protocol';
import { FakeClock } from '@parley/sip';
import '../../src/chat/chat-events.ts';
import { InProcessBus } from '../../src/bus/bus.ts';
import { ChatDelivery } from '../../src/chat/delivery.ts';
import { SeqOrder } from '../../src/chat/seq-order.ts';

const fakeTimers = (clock: FakeClock) => ({
  setTimeout: (fn: () => void, ms: number) => clock.setTimer(ms, fn),
  clearTimeout: (h: unknown) => clock.clearTimer(h as ReturnType<FakeClock['setTimer']>),
});

test('held until the gap fills, given up after the wait, a late one still pushed', () => {
  const clock = new FakeClock();
  const order = new SeqOrder(500, fakeTimers(clock));
  const out: string[] = [];
  const at = (c: string, seq: number) => order.deliver(c, seq, () => out.push(`${c}${seq}`));
  at('a', 1);
  at('a', 3);
  at('b', 7); // another conversation is not held up by a's gap
  at('a', 4);
  assert.deepEqual(out, ['a1', 'b7']);
  at('a', 2);
  assert.deepEqual(out, ['a1', 'b7', 'a2', 'a3', 'a4']);
  assert.equal(order.waiting, 0);
  at('a', 6);
  at('a', 8);
  clock.advance(499);
  assert.deepEqual(out.slice(5), [], 'still waiting for 5');
  clock.advance(1);
  assert.deepEqual(out.slice(5), ['a6'], '5 given up; 8 waits for 7 in its own turn');
  clock.advance(500);
  assert.deepEqual(out.slice(5), ['a6', 'a8']);
  at('a', 5);
  at('a', 9);
  assert.deepEqual(out.slice(7), ['a5', 'a9'], 'a late one goes out at once, and the lane goes on');
  at('a', 11);
  order.close();
  assert.deepEqual(out.slice(9), ['a11'], 'closing flushes what was held');
});

test('delivery writes the pushes of out-of-order events in seq order to every device', async () => {
  const clock = new FakeClock();
  const bus = new InProcessBus();
  const delivery = new ChatDelivery(
    bus,
    { memberIds: async () => ['alice', 'bob'] },
    pino({ level: 'silent' }),
    500,
    fakeTimers(clock),
  );
  const got = new Map<string, number[]>();
  const device = (userId: string) => ({
    tenantId: 't1',
    sendWire: (w: Buffer) => {
      const start = (w[1]! & 0x7f) === 126 ? 4 : 2; // the WebSocket frame's header, unmasked
      const f = JSON.parse(w.subarray(start).toString('utf8')) as { message: Message };
      got.set(userId, [...(got.get(userId) ?? []), f.message.seq]);
    },
  });
  const devices = { alice: device('alice'), bob: device('bob') };
  delivery.attach({ sessionsOf: (u) => [devices[u as 'alice' | 'bob']] });
  const message = (seq: number) =>
    ({ id: `m${seq}`, conversationId: 'c1', seq, senderId: 'alice', text: `m${seq}` }) as Message;
  for (const seq of [1, 2, 4, 5, 3, 6])
    bus.publish('chat.message', { tenantId: 't1', change: 'new', message: message(seq) });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got.get('alice'), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(got.get('bob'), [1, 2, 3, 4, 5, 6]);
  delivery.close();
});
