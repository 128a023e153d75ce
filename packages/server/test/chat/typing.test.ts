/**
 * Typing indicators end on their own: with no repeat within PARLEY_CHAT_TYPING_TTL_MS the server pushes
 * "stopped" itself; a repeat keeps it alive; an explicit stop or the typist's message ends it at once;
 * a reconnecting device is never replayed one. The tracker runs on an injected clock; the server test
 * uses a short setting and waits for the push (no sleeps).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@parley/sip';
import { makeTenant, makeUser, startServer, type TestServer } from '../helpers/server.ts';
import { chatSocket, openConversation, send, type ChatSocket } from './chat-helpers.ts';
import { TypingTracker, type TypingKey } from '../../src/chat/typing.ts';

test('the tracker ends an indicator once: after the TTL without a repeat, or at a stop', () => {
  const clock = new FakeClock();
  const ended: string[] = [];
  const tracker = new TypingTracker((k) => ended.push(k.userId), {
    setTimeout: (fn, ms) => clock.setTimer(ms, fn),
    clearTimeout: (h) => clock.clearTimer(h as ReturnType<FakeClock['setTimer']>),
  });
  const alice: TypingKey = { tenantId: 't', conversationId: 'c', userId: 'alice' };
  const bob: TypingKey = { ...alice, userId: 'bob' };
  tracker.typing(alice, 1000);
  clock.advance(800);
  tracker.typing(alice, 1000); // a repeat: the countdown starts again
  clock.advance(800);
  assert.deepEqual(ended, [], 'still typing 1.6 s after the first, 0.8 s after the repeat');
  clock.advance(200);
  assert.deepEqual(ended, ['alice']);
  clock.advance(5000);
  assert.deepEqual(ended, ['alice'], 'once');
  tracker.typing(bob, 1000);
  tracker.stop(bob);
  tracker.stop(bob);
  clock.advance(2000);
  assert.deepEqual(ended, ['alice', 'bob'], 'a stop ends it once, and its timer with it');
  tracker.stop(alice);
  assert.deepEqual(ended, ['alice', 'bob'], 'stopping what is not showing says nothing');
});

describe('typing expiry on a running server', () => {
  const ttlMs = 300;
  let s: TestServer;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  const sockets: ChatSocket[] = [];
  const socket = async (token: string) => {
    const c = await chatSocket(s, token);
    sockets.push(c);
    return c;
  };
  before(async () => {
    s = await startServer('sqlite', { chatTypingTtlMs: ttlMs });
    const t = await makeTenant(s, 'typing');
    alice = await makeUser(s, t.id, `alice@${t.domain}`);
    bob = await makeUser(s, t.id, `bob@${t.domain}`);
  });
  after(async () => {
    await Promise.all(sockets.map((c) => c.close()));
    await s.close();
  });

  const typingFrames = (c: ChatSocket, id: string) =>
    c.frames.filter((f) => f.t === 'chat.typing' && f.conversationId === id);

  test('no repeat: the server says "stopped" after the TTL; a client that vanished mid-word still ends', async () => {
    const { id } = await openConversation(s, alice.token, [bob.id]);
    // A 1:1 chat names its other member in the list (what a client titles it by).
    const list = await s.http.get('/api/conversations', { token: bob.token });
    const items = (list.json as { items: Array<{ id: string; peerId: string | null }> }).items;
    assert.equal(items.find((c) => c.id === id)?.peerId, alice.id);
    const [a, b] = [await socket(alice.token), await socket(bob.token)];
    const started = Date.now();
    await a.request({ t: 'chat.typing', conversationId: id });
    const on = await b.waitFrame((f) => f.t === 'chat.typing' && f.conversationId === id);
    assert.deepEqual([on.userId, on.typing, on.ttlMs], [alice.id, true, ttlMs]);
    await a.close(); // gone without a word
    const off = await b.waitFrame(
      (f) => f.t === 'chat.typing' && f.conversationId === id && f.typing === false,
    );
    assert.equal(off.userId, alice.id);
    assert.ok(Date.now() - started >= ttlMs, `stopped after ${Date.now() - started} ms`);
    assert.equal(typingFrames(b, id).length, 2, 'one start, one stop');
  });

  test('an explicit stop and the typist’s message end it at once, before the message shows', async () => {
    const { id } = await openConversation(s, alice.token, [bob.id], 'Stops');
    const [a, b] = [await socket(alice.token), await socket(bob.token)];
    await a.request({ t: 'chat.typing', conversationId: id });
    await b.waitFrame((f) => f.t === 'chat.typing' && f.conversationId === id);
    await a.request({ t: 'chat.typing', conversationId: id, typing: false });
    await b.waitFrame((f) => f.t === 'chat.typing' && f.conversationId === id && f.typing === false);
    assert.equal(typingFrames(b, id).length, 2);
    await a.request({ t: 'chat.typing', conversationId: id });
    await b.waitFrame((f) => f.t === 'chat.typing' && typingFrames(b, id).length === 3);
    const m = await send(s, alice.token, id, 'done typing');
    await b.waitFrame((f) => f.t === 'chat.message' && (f.message as { id: string }).id === m.id);
    const tail = b.frames.filter(
      (f) => f.conversationId === id || (f.message as { conversationId?: string })?.conversationId === id,
    );
    const stopAt = tail.findIndex((f) => f.t === 'chat.typing' && f.typing === false && tail.indexOf(f) > 1);
    const msgAt = tail.findIndex((f) => f.t === 'chat.message');
    assert.ok(stopAt >= 0 && stopAt < msgAt, 'the stop comes just before the message');
    assert.equal(typingFrames(b, id).length, 4, 'one stop for the message');
    // A device that connects now (or resumes) is told nothing about typing: never stored or replayed.
    const late = await socket(bob.token);
    await send(s, alice.token, id, 'a marker');
    await late.waitFrame((f) => f.t === 'chat.message');
    assert.equal(typingFrames(late, id).length, 0);
  });
});
