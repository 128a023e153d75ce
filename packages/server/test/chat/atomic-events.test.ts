/**
 * A chat change and the per-user events that describe it (membership, mentions, read positions) commit
 * in one transaction: a failure between the two writes leaves neither. The failure is injected in the
 * real database (a trigger that refuses every insert into `user_events`), on both engines; once it is
 * gone, a retry does the change with its events, exactly once.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Conversation, DurableEvent, Message } from '@parley/protocol';
import {
  engines,
  makeTenant,
  makeUser,
  startServer,
  type TestServer,
  type TenantFixture,
} from '../helpers/server.ts';
import { history, openConversation, send } from './chat-helpers.ts';
import { refuseEventWrites } from '../helpers/refuse-events.ts';

type User = { id: string; address: string; token: string };

for (const engine of engines) {
  describe(`chat events commit with their change (${engine})`, () => {
    let s: TestServer;
    let t: TenantFixture;
    let alice: User, bob: User, carol: User, dave: User;
    let group: string;
    let first: Message;

    let repairEventLog: () => Promise<void>;
    const eventsOf = async (u: User): Promise<DurableEvent[]> => {
      const r = await s.http.get('/api/me/events?after=0', { token: u.token });
      assert.equal(r.status, 200, r.text);
      return (r.json as { events: DurableEvent[] }).events;
    };
    const conversation = async (u: User, id: string) => {
      const r = await s.http.get(`/api/conversations/${id}`, { token: u.token });
      assert.equal(r.status, 200, r.text);
      return r.json as Conversation;
    };

    before(async () => {
      s = await startServer(engine);
      t = await makeTenant(s, 'atomic');
      alice = await makeUser(s, t.id, `alice@${t.domain}`);
      bob = await makeUser(s, t.id, `bob@${t.domain}`);
      carol = await makeUser(s, t.id, `carol@${t.domain}`);
      dave = await makeUser(s, t.id, `dave@${t.domain}`);
      group = (await openConversation(s, alice.token, [bob.id, carol.id], 'Team')).id;
      first = await send(s, alice.token, group, 'before the failure');
      repairEventLog = await refuseEventWrites(s.app.storage);
    });
    after(() => s.close());

    test('while event writes fail, every change that has events fails whole', async () => {
      const created = await s.http.post(
        '/api/conversations',
        { members: [dave.id], title: 'Never made' },
        { token: alice.token },
      );
      assert.equal(created.status, 500, created.text);
      const added = await s.http.post(
        `/api/conversations/${group}/members/${dave.id}`,
        {},
        { token: alice.token },
      );
      assert.equal(added.status, 500, added.text);
      const removed = await s.http.delete(`/api/conversations/${group}/members/${carol.id}`, {
        token: alice.token,
      });
      assert.equal(removed.status, 500, removed.text);
      const mention = await s.http.post(
        `/api/conversations/${group}/messages`,
        { text: '@bob look', clientMessageId: 'mention-1', mentions: [bob.id] },
        { token: alice.token },
      );
      assert.equal(mention.status, 500, mention.text);
      const read = await s.http.post(
        `/api/conversations/${group}/read`,
        { seq: first.seq },
        { token: bob.token },
      );
      assert.equal(read.status, 500, read.text);
    });

    test('and none of them left its change behind', async () => {
      await repairEventLog();
      const list = await s.http.get('/api/conversations', { token: alice.token });
      assert.deepEqual(
        (list.json as { items: Conversation[] }).items.map((c) => c.title),
        ['Team'],
        'the failed group was not created',
      );
      const g = await conversation(alice, group);
      assert.deepEqual((g.members ?? []).map((m) => m.userId).sort(), [alice.id, bob.id, carol.id].sort());
      assert.deepEqual(
        (await history(s, alice.token, group)).messages.map((m) => m.text),
        ['before the failure'],
        'the message whose mention failed was not stored',
      );
      const b = await conversation(bob, group);
      assert.equal(b.me.readSeq, 0, "bob's read position did not move");
      assert.equal(b.me.unread, 1);
      assert.deepEqual(await eventsOf(dave), [], 'dave was told of nothing');
      assert.deepEqual(
        (await eventsOf(bob)).map((e) => e.kind),
        ['chat.membership'],
        'bob has only the event of the group he was added to',
      );
    });

    test('a retry then makes each change with its events, once', async () => {
      const retried = await s.http.post(
        `/api/conversations/${group}/messages`,
        { text: '@bob look', clientMessageId: 'mention-1', mentions: [bob.id] },
        { token: alice.token },
      );
      assert.equal(retried.status, 201, retried.text);
      const m = retried.json as Message;
      assert.equal(m.seq, first.seq + 1, 'no seq was used by the failed attempt');
      const read = await s.http.post(
        `/api/conversations/${group}/read`,
        { seq: m.seq },
        { token: bob.token },
      );
      assert.equal(read.status, 200, read.text);
      const added = await s.http.post(
        `/api/conversations/${group}/members/${dave.id}`,
        {},
        { token: alice.token },
      );
      assert.equal(added.status, 200, added.text);
      const bobs = await eventsOf(bob);
      assert.deepEqual(
        bobs.map((e) => e.kind),
        ['chat.membership', 'chat.mention', 'chat.read'],
      );
      assert.equal(bobs[1]!.data.messageId, m.id);
      assert.deepEqual(bobs[2]!.data, { conversationId: group, readSeq: m.seq, unread: 0 });
      assert.deepEqual(
        (await eventsOf(dave)).map((e) => [e.kind, e.data.change]),
        [['chat.membership', 'added']],
      );
    });
  });
}
