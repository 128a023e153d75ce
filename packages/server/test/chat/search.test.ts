/**
 * Message search on both engines: ranked, paged, plain-text snippets with highlight ranges; edits
 * re-indexed, deletes gone; never another conversation's or tenant's messages, and a removed member
 * finds nothing sent after leaving.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '@parley/protocol';
import {
  engines,
  makeTenant,
  makeUser,
  startServer,
  type TestServer,
  type TenantFixture,
} from '../helpers/server.ts';
import { openConversation, send } from './chat-helpers.ts';
import { ftsQuery, marks, tsQuery } from '../../src/chat/search.ts';

interface Results {
  hits: Array<{ message: Message; snippet: string; highlights: Array<[number, number]>; rank: number }>;
  nextOffset: number | null;
}

test('user input is only words to FTS5, and marks become ranges', () => {
  assert.equal(ftsQuery('falcon launch'), '"falcon" "launch"*');
  assert.equal(ftsQuery('a OR b NEAR(c) "d'), '"a" "or" "b" "near" "c" "d"*');
  assert.equal(tsQuery("it's a:* | !b"), "'it' & 's' & 'a' & 'b':*");
  assert.equal(ftsQuery('  ***  '), null);
  assert.deepEqual(marks('the \u0001falcon\u0002 has \u0001landed\u0002'), {
    snippet: 'the falcon has landed',
    highlights: [
      [4, 10],
      [15, 21],
    ],
  });
});

for (const engine of engines) {
  describe(`chat search (${engine})`, () => {
    let s: TestServer;
    let t: TenantFixture;
    let other: TenantFixture;
    let alice: { id: string; token: string };
    let bob: { id: string; token: string };
    let carol: { id: string; token: string };
    before(async () => {
      s = await startServer(engine, { chatSendBurst: 1000 });
      t = await makeTenant(s, 'search');
      other = await makeTenant(s, 'searchother');
      alice = await makeUser(s, t.id, `alice@${t.domain}`);
      bob = await makeUser(s, t.id, `bob@${t.domain}`);
      carol = await makeUser(s, t.id, `carol@${t.domain}`);
    });
    after(() => s.close());

    const search = async (token: string, q: string, extra = '') => {
      const r = await s.http.get(`/api/search/messages?q=${encodeURIComponent(q)}${extra}`, { token });
      assert.equal(r.status, 200, r.text);
      return r.json as Results;
    };

    test('ranked, highlighted, paged; edits re-indexed and deletes removed', async () => {
      const { id } = await openConversation(s, alice.token, [bob.id], 'Falcon');
      await send(s, alice.token, id, 'The falcon launch is on Friday');
      await send(s, bob.token, id, 'falcon falcon falcon: the falcon team meets at noon');
      await send(s, alice.token, id, 'Lunch is at noon');
      const hits = await search(bob.token, 'falcon');
      assert.equal(hits.hits.length, 2);
      assert.match(hits.hits[0]!.message.text, /falcon team/, 'more matches rank first');
      assert.ok(hits.hits[0]!.rank >= hits.hits[1]!.rank);
      const h = hits.hits[1]!;
      assert.ok(h.highlights.length >= 1);
      for (const [a, b] of h.highlights) assert.equal(h.snippet.slice(a, b).toLowerCase(), 'falcon');
      assert.ok(!/[\u0001\u0002]/.test(h.snippet));
      const page1 = await search(bob.token, 'falcon', '&limit=1');
      assert.equal(page1.hits.length, 1);
      assert.equal(page1.nextOffset, 1);
      const page2 = await search(bob.token, 'falcon', '&limit=1&offset=1');
      assert.equal(page2.nextOffset, null);
      assert.notEqual(page2.hits[0]!.message.id, page1.hits[0]!.message.id);
      // Edit: the old word is gone, the new one found.
      const lunch = (await search(alice.token, 'lunch')).hits[0]!.message;
      await s.http.patch(
        `/api/conversations/${id}/messages/${lunch.id}`,
        { text: 'Brunch is at noon' },
        {
          token: alice.token,
        },
      );
      assert.equal((await search(alice.token, 'lunch')).hits.length, 0);
      assert.equal((await search(alice.token, 'brunch')).hits.length, 1);
      await s.http.delete(`/api/conversations/${id}/messages/${lunch.id}`, { token: alice.token });
      assert.equal((await search(alice.token, 'brunch')).hits.length, 0);
      // Search syntax in the query is only text.
      assert.equal((await search(alice.token, '"falcon" OR NEAR(')).hits.length, 0);
      assert.equal((await search(alice.token, 'fal')).hits.length, 2, 'the last word matches as a prefix');
    });

    test('never another conversation, another tenant, or what was sent after leaving', async () => {
      const secret = await openConversation(s, alice.token, [bob.id], 'Secret');
      await send(s, alice.token, secret.id, 'zebra crossing plans');
      assert.equal((await search(carol.token, 'zebra')).hits.length, 0, 'not a member');
      assert.equal((await search(other.user.token, 'zebra')).hits.length, 0, 'another tenant');
      const group = await openConversation(s, alice.token, [bob.id, carol.id], 'Group');
      await send(s, alice.token, group.id, 'quokka before');
      assert.equal((await search(carol.token, 'quokka')).hits.length, 1);
      const removed = await s.http.delete(`/api/conversations/${group.id}/members/${carol.id}`, {
        token: alice.token,
      });
      assert.equal(removed.status, 204);
      await send(s, alice.token, group.id, 'quokka after');
      const after = await search(carol.token, 'quokka');
      assert.deepEqual(
        after.hits.map((x) => x.message.text),
        ['quokka before'],
      );
      assert.equal((await search(bob.token, 'quokka')).hits.length, 2);
      assert.equal((await search(bob.token, 'quokka', `&conversationId=${secret.id}`)).hits.length, 0);
      const bad = await s.http.get('/api/search/messages?q=', { token: bob.token });
      assert.equal(bad.status, 400);
    });
  });
}
