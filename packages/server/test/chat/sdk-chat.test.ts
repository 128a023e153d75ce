/**
 * The SDK's chat: sends (socket, then HTTP while away) answered once, pushes in seq order per
 * conversation, and after a dropped connection the missed messages are caught up with none twice.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '@parley/protocol';
import { makeTenant, makeUser, startServer, type TestServer } from '../helpers/server.ts';
import { closeClients, makeClient, waitFor } from '../realtime/clients.ts';

describe('SDK chat', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer('sqlite', { chatSendBurst: 1000 });
  });
  after(async () => {
    closeClients();
    await s.close();
  });

  test('messages arrive in order once each, across a dropped connection', async () => {
    const t = await makeTenant(s, 'sdkchat');
    const alice = await makeUser(s, t.id, `alice@${t.domain}`);
    const bob = await makeUser(s, t.id, `bob@${t.domain}`);
    const a = makeClient(s, alice, 'alice-desk');
    const b = makeClient(s, bob, 'bob-phone');
    const got: Message[] = [];
    b.client.on('chat.message', (e) => {
      if (e.change === 'new') got.push(e.message);
    });
    const typing: string[] = [];
    b.client.on('chat.typing', (e) => typing.push(e.userId));
    await a.client.connect();
    await b.client.connect();
    const conv = await a.client.chat.open([bob.id]);
    const first = await a.client.chat.send(conv.id, 'hello bob');
    assert.equal(first.seq, 1);
    await waitFor(() => (got.length === 1 ? true : undefined), 5000, 'first push');
    await a.client.chat.typing(conv.id);
    await waitFor(() => (typing.includes(alice.id) ? true : undefined), 5000, 'typing');
    b.network.up = false;
    b.client.simulateNetworkDrop();
    for (let i = 0; i < 5; i++) await a.client.chat.send(conv.id, `while away ${i}`);
    b.network.up = true;
    await waitFor(() => (got.length >= 6 ? true : undefined), 10_000, 'six messages');
    const last = await a.client.chat.send(conv.id, 'welcome back');
    await waitFor(() => (got.length >= 7 ? true : undefined), 5000, 'the live one');
    assert.deepEqual(
      got.map((m) => m.seq),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(got.at(-1)!.id, last.id);
    const read = await b.client.chat.read(conv.id, 7);
    assert.deepEqual(read, { readSeq: 7, unread: 0 });
    const unread = await b.client.chat.unread();
    assert.equal(unread.total, 0);
    const hits = await b.client.chat.search('away');
    assert.equal(hits.hits.length, 5);
  });
});
