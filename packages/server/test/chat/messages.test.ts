/**
 * Chat conversations and messages end to end on a real server, both engines: 1:1 and groups, ordered
 * multi-device delivery, idempotent sends, bad input, edits and deletes on every device, receipts and
 * unread counts across devices, typing, leaving, and resume after a cut socket.
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
import { code } from '../helpers/http.ts';
import { waitFor } from '../realtime/clients.ts';
import { chatSocket, history, openConversation, send, type ChatSocket } from './chat-helpers.ts';

for (const engine of engines) {
  describe(`chat messages (${engine})`, () => {
    let s: TestServer;
    let t: TenantFixture;
    let alice: { id: string; address: string; token: string };
    let bob: { id: string; address: string; token: string };
    let carol: { id: string; address: string; token: string };
    const sockets: ChatSocket[] = [];
    const socket = async (token: string, resume?: { lastSeq: number; chatSince?: number }) => {
      const c = await chatSocket(s, token, resume);
      sockets.push(c);
      return c;
    };
    before(async () => {
      s = await startServer(engine, { chatSendBurst: 1000, chatSendRate: 1000 });
      t = await makeTenant(s, 'chat');
      alice = await makeUser(s, t.id, `alice@${t.domain}`);
      bob = await makeUser(s, t.id, `bob@${t.domain}`);
      carol = await makeUser(s, t.id, `carol@${t.domain}`);
    });
    after(async () => {
      await Promise.all(sockets.map((c) => c.close()));
      await s.close();
    });

    test('opening a 1:1 chat again, from either side, returns the same conversation', async () => {
      const first = await openConversation(s, alice.token, [bob.id]);
      assert.equal(first.status, 201);
      const again = await openConversation(s, alice.token, [bob.id]);
      assert.equal(again.status, 200);
      assert.equal(again.id, first.id);
      const fromBob = await openConversation(s, bob.token, [alice.id]);
      assert.equal(fromBob.id, first.id);
      const c = (await s.http.get(`/api/conversations/${first.id}`, { token: bob.token }))
        .json as Conversation;
      assert.equal(c.kind, 'direct');
      assert.deepEqual(c.members!.map((m) => m.userId).sort(), [alice.id, bob.id].sort());
      // Carol is no member: the conversation does not exist for her.
      const r = await s.http.get(`/api/conversations/${first.id}`, { token: carol.token });
      assert.equal(r.status, 404);
    });

    test('every device of every member gets each message once, in order, the sender’s other device too', async () => {
      const { id } = await openConversation(s, alice.token, [bob.id, carol.id], 'Ordering');
      const [phone, desktop, bobs] = [
        await socket(alice.token),
        await socket(alice.token),
        await socket(bob.token),
      ];
      // Sent concurrently: the seqs are whatever order the commits took, and every device sees that order.
      const sent = await Promise.all(Array.from({ length: 30 }, (_, i) => send(s, alice.token, id, `m${i}`)));
      assert.deepEqual(
        sent.map((m) => m.seq).sort((a, b) => a - b),
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
      for (const dev of [phone, desktop, bobs]) {
        await waitFor(
          () => (dev.messages().filter((m) => m.conversationId === id).length >= 30 ? true : undefined),
          5000,
          '30 pushes',
        );
        const seqs = dev
          .messages()
          .filter((m) => m.conversationId === id)
          .map((m) => m.seq);
        assert.deepEqual(
          seqs,
          Array.from({ length: 30 }, (_, i) => i + 1),
        );
      }
      const h = await history(s, bob.token, id, '?after=0&limit=500');
      assert.deepEqual(
        h.messages.map((m) => m.seq),
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
      assert.equal(h.headSeq, 30);
      const back = await history(s, bob.token, id, '?before=11&limit=5');
      assert.deepEqual(
        back.messages.map((m) => m.seq),
        [6, 7, 8, 9, 10],
      );
      assert.equal(back.hasMore, true);
    });

    test('a retry under the same clientMessageId returns the stored message; another text is 409', async () => {
      const { id } = await openConversation(s, alice.token, [bob.id]);
      const body = { text: 'once only', clientMessageId: 'retry-1' };
      const first = await s.http.post(`/api/conversations/${id}/messages`, body, { token: alice.token });
      assert.equal(first.status, 201);
      const retry = await s.http.post(`/api/conversations/${id}/messages`, body, { token: alice.token });
      assert.equal(retry.status, 200);
      assert.deepEqual(retry.json, first.json);
      const clash = await s.http.post(
        `/api/conversations/${id}/messages`,
        { text: 'something else', clientMessageId: 'retry-1' },
        { token: alice.token },
      );
      assert.equal(clash.status, 409);
      assert.equal(code(clash), 'conflict');
      // Retries racing each other: one message.
      const racing = await Promise.all(
        Array.from({ length: 8 }, () =>
          s.http.post(
            `/api/conversations/${id}/messages`,
            { text: 'raced', clientMessageId: 'race-1' },
            { token: alice.token },
          ),
        ),
      );
      assert.ok(
        racing.every((r) => r.status === 200 || r.status === 201),
        racing.map((r) => r.text).join(),
      );
      assert.equal(new Set(racing.map((r) => (r.json as Message).id)).size, 1);
      const h = await history(s, alice.token, id, '?after=0');
      assert.equal(h.messages.filter((m) => m.text === 'raced').length, 1);
      assert.equal(h.messages.filter((m) => m.text === 'once only').length, 1);
      assert.deepEqual(
        h.messages.map((m) => m.seq),
        h.messages.map((_, i) => i + 1),
      );
    });

    test('bad input gets a coded error and stores nothing; markup is stored verbatim', async () => {
      const { id } = await openConversation(s, alice.token, [bob.id], 'Bad input');
      const post = (body: unknown, token = alice.token) =>
        s.http.post(`/api/conversations/${id}/messages`, body, { token });
      const nonMember = await post({ text: 'let me in', clientMessageId: 'x1' }, carol.token);
      assert.equal(nonMember.status, 404);
      const big = await post({ text: 'é'.repeat(9000), clientMessageId: 'x2' });
      assert.equal(big.status, 413);
      assert.equal(code(big), 'payload_too_large');
      const empty = await post({ text: '   ', clientMessageId: 'x3' });
      assert.equal(empty.status, 400);
      assert.equal(code(empty), 'validation_failed');
      const noId = await post({ text: 'hi' });
      assert.equal(noId.status, 400);
      const foreignReply = await post({ text: 'hi', clientMessageId: 'x4', replyTo: 'msg_nope' });
      assert.equal(foreignReply.status, 404);
      const foreignFile = await post({ text: 'hi', clientMessageId: 'x5', attachments: ['fil_nope'] });
      assert.equal(foreignFile.status, 404);
      const badMention = await post({ text: 'hi', clientMessageId: 'x6', mentions: [carol.id] });
      assert.equal(badMention.status, 400);
      const unknownConversation = await s.http.post(
        '/api/conversations/cnv_nope/messages',
        { text: 'hi', clientMessageId: 'x7' },
        { token: alice.token },
      );
      assert.equal(unknownConversation.status, 404);
      assert.equal((await history(s, alice.token, id)).messages.length, 0);
      const html = '<script>alert(1)</script> <img src=x onerror=alert(2)> **bold**';
      const m = await send(s, alice.token, id, html);
      assert.equal(m.text, html);
      assert.equal((await history(s, bob.token, id)).messages[0]!.text, html);
    });

    test('sends over the socket are answered after storing and pushed to the other members', async () => {
      const { id } = await openConversation(s, alice.token, [bob.id], 'Socket sends');
      const a = await socket(alice.token);
      const b = await socket(bob.token);
      const m = await a.request<Message>({
        t: 'chat.send',
        conversationId: id,
        text: 'over the socket',
        clientMessageId: 'ws-1',
      });
      assert.equal(m.seq, 1);
      const pushed = await b.waitFrame((f) => f.t === 'chat.message' && (f.message as Message).id === m.id);
      assert.equal((pushed.message as Message).text, 'over the socket');
      const again = await a.request<Message>({
        t: 'chat.send',
        conversationId: id,
        text: 'over the socket',
        clientMessageId: 'ws-1',
      });
      assert.equal(again.id, m.id);
      const refused = await b
        .request({ t: 'chat.send', conversationId: 'cnv_nope', text: 'x', clientMessageId: 'ws-2' })
        .catch((e: { code: string }) => e.code);
      assert.equal(refused, 'not_found');
    });

    test('edits and deletes reach every device and are caught up with editedAfter', async () => {
      const { id } = await openConversation(s, alice.token, [bob.id], 'Edits');
      const [a2, b1, b2] = [await socket(alice.token), await socket(bob.token), await socket(bob.token)];
      const m = await send(s, alice.token, id, 'first draft');
      const other = await send(s, alice.token, id, 'to delete');
      const edited = await s.http.patch(
        `/api/conversations/${id}/messages/${m.id}`,
        { text: 'final' },
        { token: alice.token },
      );
      assert.equal(edited.status, 200);
      const byBob = await s.http.patch(
        `/api/conversations/${id}/messages/${m.id}`,
        { text: 'hijack' },
        { token: bob.token },
      );
      assert.equal(byBob.status, 403);
      const del = await s.http.delete(`/api/conversations/${id}/messages/${other.id}`, {
        token: alice.token,
      });
      assert.equal(del.status, 200);
      for (const dev of [a2, b1, b2]) {
        const e = await dev.waitFrame((f) => f.t === 'chat.message' && f.change === 'edit');
        assert.equal((e.message as Message).text, 'final');
        const d = await dev.waitFrame((f) => f.t === 'chat.message' && f.change === 'delete');
        assert.equal((d.message as Message).text, '');
        assert.ok((d.message as Message).deletedAt);
      }
      const changes = await history(s, bob.token, id, '?editedAfter=0');
      assert.deepEqual(
        changes.messages.map((x) => [x.id, x.editSeq]),
        [
          [m.id, 1],
          [other.id, 2],
        ],
      );
      assert.equal(changes.editSeq, 2);
      const all = await history(s, bob.token, id, '?after=0');
      assert.deepEqual(
        all.messages.map((x) => x.seq),
        [1, 2],
      );
      assert.equal(all.messages[1]!.deletedAt !== null, true);
      const editDeleted = await s.http.patch(
        `/api/conversations/${id}/messages/${other.id}`,
        { text: 'back' },
        { token: alice.token },
      );
      assert.equal(editDeleted.status, 409);
    });

    test('unread counts and read receipts agree across devices', async () => {
      const { id } = await openConversation(s, alice.token, [bob.id], 'Receipts');
      const [aliceDev, bobPhone, bobDesk] = [
        await socket(alice.token),
        await socket(bob.token),
        await socket(bob.token),
      ];
      for (let i = 0; i < 3; i++) await send(s, alice.token, id, `unread ${i}`);
      const list = (await s.http.get('/api/conversations', { token: bob.token })).json as {
        items: Conversation[];
        unreadTotal: number;
      };
      assert.equal(list.items.find((c) => c.id === id)!.me.unread, 3);
      assert.ok(list.unreadTotal >= 3);
      // The sender's own messages are not unread for her.
      const mine = (await s.http.get(`/api/conversations/${id}`, { token: alice.token }))
        .json as Conversation;
      assert.equal(mine.me.unread, 0);
      const read = await bobPhone.request<{ readSeq: number; unread: number }>({
        t: 'chat.read',
        conversationId: id,
        seq: 2,
      });
      assert.deepEqual(read, { readSeq: 2, unread: 1 });
      // The desktop learns from Bob's own event log; Alice sees the receipt.
      const ev = await bobDesk.waitFrame(
        (f) => f.t === 'event' && (f.event as DurableEvent).kind === 'chat.read',
      );
      assert.deepEqual((ev.event as DurableEvent).data, { conversationId: id, readSeq: 2, unread: 1 });
      const receipt = await aliceDev.waitFrame((f) => f.t === 'chat.receipt' && f.conversationId === id);
      assert.equal(receipt.readSeq, 2);
      // Reading past the head is clamped; reading backwards changes nothing.
      const r = await s.http.post(`/api/conversations/${id}/read`, { seq: 99 }, { token: bob.token });
      assert.deepEqual(r.json, { readSeq: 3, unread: 0 });
      const back = await s.http.post(`/api/conversations/${id}/read`, { seq: 1 }, { token: bob.token });
      assert.deepEqual(back.json, { readSeq: 3, unread: 0 });
      const c = (await s.http.get(`/api/conversations/${id}`, { token: alice.token })).json as Conversation;
      assert.equal(c.members!.find((m) => m.userId === bob.id)!.readSeq, 3);
      const delivered = await bobPhone.request<{ readSeq: number }>({
        t: 'chat.read',
        conversationId: id,
        seq: 3,
        delivered: true,
      });
      assert.equal(delivered.readSeq, 3);
    });

    test('typing reaches the other members only, and a non-member’s typing is refused', async () => {
      const { id } = await openConversation(s, alice.token, [bob.id], 'Typing');
      const [a1, a2, b1] = [await socket(alice.token), await socket(alice.token), await socket(bob.token)];
      await a1.request({ t: 'chat.typing', conversationId: id });
      const f = await b1.waitFrame((x) => x.t === 'chat.typing' && x.conversationId === id);
      assert.equal(f.userId, alice.id);
      assert.equal(f.ttlMs, s.app.config.chatTypingTtlMs);
      assert.equal(
        a2.frames.some((x) => x.t === 'chat.typing' && x.conversationId === id),
        false,
      );
      const c = await socket(carol.token);
      const refused = await c
        .request({ t: 'chat.typing', conversationId: id })
        .catch((e: { code: string }) => e.code);
      assert.equal(refused, 'not_found');
    });

    test('a member who leaves keeps the history up to leaving and can no longer post', async () => {
      const { id } = await openConversation(s, alice.token, [bob.id, carol.id], 'Leaving');
      await send(s, alice.token, id, 'before');
      const left = await s.http.delete(`/api/conversations/${id}/members/${carol.id}`, {
        token: carol.token,
      });
      assert.equal(left.status, 204);
      await send(s, alice.token, id, 'after');
      const h = await history(s, carol.token, id, '?after=0');
      assert.deepEqual(
        h.messages.map((m) => m.text),
        ['before'],
      );
      assert.equal(h.headSeq, 1);
      const post = await s.http.post(
        `/api/conversations/${id}/messages`,
        { text: 'x', clientMessageId: 'gone' },
        { token: carol.token },
      );
      assert.equal(post.status, 404);
      const c = (await s.http.get(`/api/conversations/${id}`, { token: carol.token })).json as Conversation;
      assert.equal(c.me.leftSeq, 1);
      // Only the owner removes others; Bob is not the owner.
      const byBob = await s.http.delete(`/api/conversations/${id}/members/${alice.id}`, { token: bob.token });
      assert.equal(byBob.status, 403);
      // Re-added, she reads on from there.
      const added = await s.http.post(`/api/conversations/${id}/members/${carol.id}`, undefined, {
        token: alice.token,
      });
      assert.equal(added.status, 200);
      const rename = await s.http.patch(
        `/api/conversations/${id}`,
        { title: 'Renamed' },
        { token: carol.token },
      );
      assert.equal((rename.json as Conversation).title, 'Renamed');
    });

    test('a client whose socket is cut while messages flow misses none and sees none twice', async () => {
      const { id } = await openConversation(s, alice.token, [bob.id], 'Resume');
      let b = await socket(bob.token);
      const cursor = b.welcome.chat!.cursor;
      const total = 60;
      const seen = new Map<number, number>(); // seq -> times applied
      const apply = (m: Message) => seen.set(m.seq, (seen.get(m.seq) ?? 0) + 1);
      let head = 0;
      const onLive = (m: Message) => {
        if (m.conversationId !== id || m.seq <= head) return;
        apply(m);
        head = m.seq;
      };
      let sent = 0;
      const sender = (async () => {
        while (sent < total) {
          await send(s, alice.token, id, `flow ${sent}`);
          sent++;
        }
      })();
      await waitFor(() => (sent >= 15 ? true : undefined), 10_000, '15 sent');
      b.ws.terminate(); // the network drops
      for (const m of b.messages()) onLive(m);
      await waitFor(() => (sent >= 35 ? true : undefined), 10_000, '35 sent');
      b = await socket(bob.token, { lastSeq: b.welcome.lastSeq, chatSince: cursor });
      const listed = b.welcome.chat!.changed.find((c) => c.conversationId === id);
      assert.ok(listed, 'the welcome lists the conversation');
      // Catch up from the REST timeline, then take live pushes (those already applied are skipped by seq).
      for (;;) {
        const page = await history(s, bob.token, id, `?after=${head}&limit=10`);
        for (const m of page.messages) {
          assert.ok(m.seq > head, 'after= returns only later messages');
          apply(m);
          head = m.seq;
        }
        if (!page.hasMore) break;
      }
      await sender;
      await waitFor(
        () => (b.messages().some((m) => m.seq === total) ? true : undefined),
        5000,
        'the last push',
      );
      for (const m of b.messages()) onLive(m);
      assert.deepEqual(
        [...seen.keys()].sort((x, y) => x - y),
        Array.from({ length: total }, (_, i) => i + 1),
      );
      assert.ok([...seen.values()].every((n) => n === 1));
    });
  });
}

describe('chat send throttle', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer('sqlite', { chatSendRate: 1, chatSendBurst: 3 });
  });
  after(() => s.close());

  test('a flooding sender gets 429 with Retry-After and nothing past the burst is stored', async () => {
    const t = await makeTenant(s, 'flood');
    const { id } = await openConversation(s, t.user.token, [t.admin.id]);
    const results = [];
    for (let i = 0; i < 5; i++)
      results.push(
        await s.http.post(
          `/api/conversations/${id}/messages`,
          { text: `f${i}`, clientMessageId: `f${i}` },
          { token: t.user.token },
        ),
      );
    assert.deepEqual(
      results.map((r) => r.status),
      [201, 201, 201, 429, 429],
    );
    assert.equal(code(results[3]!), 'rate_limited');
    assert.ok(Number(results[3]!.headers['retry-after']) >= 1);
    assert.equal((await history(s, t.user.token, id)).messages.length, 3);
  });
});
