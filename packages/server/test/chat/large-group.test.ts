/**
 * A message to a 500-member group writes the same bounded number of rows as a 1:1 message (counted per
 * table, and on SQLite by the connection's total_changes, triggers included) and reaches every online
 * member's devices.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Message } from '@parley/protocol';
import { engines, makeTenant, makeUser, startServer, type TestServer } from '../helpers/server.ts';
import { trustedScope } from '../../src/directory/scope.ts';
import { waitFor } from '../realtime/clients.ts';
import { chatSocket, openConversation, send, type ChatSocket } from './chat-helpers.ts';

const tables = [
  'messages',
  'conversations',
  'conversation_members',
  'user_events',
  'user_event_heads',
] as const;

for (const engine of engines) {
  describe(`a 500-member group (${engine})`, () => {
    let s: TestServer;
    const sockets: ChatSocket[] = [];
    before(async () => {
      s = await startServer(engine, { chatSendBurst: 1000 });
    });
    after(async () => {
      await Promise.all(sockets.map((c) => c.close()));
      await s.close();
    });

    const counts = async () => {
      const out: Record<string, number> = {};
      for (const t of tables) {
        const r = await sql<{ n: number }>`select count(*) as n from ${sql.table(t)}`.execute(
          s.app.storage.db,
        );
        out[t] = Number(r.rows[0]!.n);
      }
      return out;
    };
    const totalChanges = () =>
      (s.app.storage.sqlite?.prepare('select total_changes() as n').get() as { n: number } | undefined)?.n ??
      0;

    test('one message writes O(1) rows and reaches every online member', async () => {
      const t = await makeTenant(s, 'big');
      const scope = trustedScope(t.id);
      const quiet: string[] = [];
      for (let i = 0; i < 489; i++) {
        const u = await s.app.directory.createUser(scope, {
          address: `m${i}@${t.domain}`,
          displayName: `Member ${i}`,
          passwordHash: null,
          role: 'user',
        });
        quiet.push(u.id);
      }
      const online = [];
      for (let i = 0; i < 10; i++) online.push(await makeUser(s, t.id, `online${i}@${t.domain}`));
      const group = await openConversation(
        s,
        t.user.token,
        [...quiet, ...online.map((u) => u.id)],
        'Everyone',
      );
      const direct = await openConversation(s, t.user.token, [t.admin.id]);
      const conv = (await s.http.get(`/api/conversations/${group.id}`, { token: t.user.token })).json as {
        memberCount: number;
      };
      assert.equal(conv.memberCount, 500);
      for (const u of online) {
        sockets.push(await chatSocket(s, u.token));
        sockets.push(await chatSocket(s, u.token)); // a second device each
      }
      await send(s, t.user.token, direct.id, 'warm up');
      await send(s, t.user.token, group.id, 'warm up');

      const rowsOf = async (conversationId: string) => {
        const before = await counts();
        const changes = totalChanges();
        await send(s, t.user.token, conversationId, 'hello everyone');
        const afterCounts = await counts();
        const delta = Object.fromEntries(tables.map((k) => [k, afterCounts[k]! - before[k]!]));
        return { delta, changes: totalChanges() - changes };
      };
      const small = await rowsOf(direct.id);
      const large = await rowsOf(group.id);
      assert.deepEqual(large.delta, {
        messages: 1,
        conversations: 0,
        conversation_members: 0,
        user_events: 0,
        user_event_heads: 0,
      });
      assert.deepEqual(large.delta, small.delta);
      if (engine === 'sqlite') {
        // The message row, the conversation head and the full-text index's shadow-table rows (FTS5
        // writes its own): the same count for 2 or 500 members.
        assert.equal(large.changes, small.changes);
        assert.ok(large.changes <= 10, `${large.changes} rows changed`);
      }
      for (const dev of sockets)
        await waitFor(
          () => (dev.messages().some((m: Message) => m.text === 'hello everyone') ? true : undefined),
          5000,
          'the group message on every online device',
        );
      assert.equal(sockets.length, 20);
    });
  });
}
