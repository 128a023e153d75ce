/**
 * Crash safety: `kill -9` the server (a real `parley serve` process) during a send flood from several
 * clients. After a restart on the same database, every acknowledged message is in the history with the
 * seq it was acknowledged with, seqs run 1..head with no gap, and clients retrying their unacknowledged
 * sends under the same clientMessageIds end with each message exactly once.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '@parley/protocol';
import { Http } from '../helpers/http.ts';
import { engines } from '../helpers/server.ts';
import { createPgDatabase } from '../helpers/pg.ts';
import { serveProcess } from '../helpers/serve-process.ts';

/** Sends fast enough for a flood: no per-user throttle. */
const serve = (env: Record<string, string>) =>
  serveProcess({ PARLEY_CHAT_SEND_RATE: '100000', PARLEY_CHAT_SEND_BURST: '100000', ...env });

const people = ['alice', 'bob', 'carol', 'dave'];

for (const engine of engines) {
  describe(`chat crash safety (${engine})`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-chat-crash-'));
    let drop: (() => Promise<void>) | undefined;
    const children: ChildProcess[] = [];
    after(async () => {
      for (const c of children) c.kill('SIGKILL');
      await drop?.();
      rmSync(dataDir, { recursive: true, force: true });
    });

    test('kill -9 during a send flood loses no acknowledged message and retries end exactly once', async () => {
      const env: Record<string, string> = { PARLEY_DATA_DIR: dataDir };
      if (engine === 'postgres') {
        const db = await createPgDatabase();
        drop = db.drop;
        env.PARLEY_DATABASE_URL = db.url;
      }
      const first = serve(env);
      children.push(first.child);
      let http = new Http(await first.url);
      const tokens: string[] = [];
      const ids: string[] = [];
      for (const p of people) {
        const r = await http.post('/api/auth/login', {
          address: `${p}@contoso.example`,
          password: 'copper-kettle-morning',
        });
        assert.equal(r.status, 200, r.text);
        const j = r.json as { accessToken: string; user: { id: string } };
        tokens.push(j.accessToken);
        ids.push(j.user.id);
      }
      const created = await http.post(
        '/api/conversations',
        { members: ids.slice(1), title: 'Crash' },
        { token: tokens[0] },
      );
      const conversationId = (created.json as { id: string }).id;

      // Each client keeps 4 sends in flight; what was acknowledged (and with which seq) is recorded.
      const acked = new Map<string, number>();
      const unacked = new Map<string, { token: string; text: string }>();
      let killed = false;
      const flood = people.map(async (p, who) => {
        const lanes = Array.from({ length: 4 }, async (_, lane) => {
          for (let i = 0; !killed; i++) {
            const clientMessageId = `${p}-${lane}-${i}`;
            const text = `${p} says ${lane}/${i}`;
            unacked.set(clientMessageId, { token: tokens[who]!, text });
            const r = await http
              .post(
                `/api/conversations/${conversationId}/messages`,
                { text, clientMessageId },
                { token: tokens[who] },
              )
              .catch(() => null);
            if (!r || r.status >= 300) return; // the server is gone
            unacked.delete(clientMessageId);
            acked.set(clientMessageId, (r.json as Message).seq);
          }
        });
        await Promise.all(lanes);
      });
      while (acked.size < 300) await new Promise((r) => setTimeout(r, 5));
      first.child.kill('SIGKILL');
      killed = true;
      await Promise.all(flood);
      assert.ok(acked.size >= 300);

      const second = serve(env);
      children.push(second.child);
      http = new Http(await second.url);
      const login = await http.post('/api/auth/login', {
        address: 'alice@contoso.example',
        password: 'copper-kettle-morning',
      });
      const token = (login.json as { accessToken: string }).accessToken;
      const all = async () => {
        const out: Message[] = [];
        for (let after = 0; ;) {
          const r = await http.get(`/api/conversations/${conversationId}/messages?after=${after}&limit=500`, {
            token,
          });
          const page = r.json as { messages: Message[]; hasMore: boolean };
          out.push(...page.messages);
          if (!page.hasMore) return out;
          after = page.messages.at(-1)!.seq;
        }
      };
      const stored = await all();
      assert.deepEqual(
        stored.map((m) => m.seq),
        stored.map((_, i) => i + 1),
        'no gap in seqs',
      );
      const byClientId = new Map(stored.map((m) => [m.clientMessageId, m]));
      for (const [cid, seq] of acked)
        assert.equal(byClientId.get(cid)?.seq, seq, `acknowledged ${cid} kept its seq`);

      // Retry every unacknowledged send under its id; tokens survive the restart (sessions are stored).
      for (const [clientMessageId, { token: t, text }] of unacked) {
        const r = await http.post(
          `/api/conversations/${conversationId}/messages`,
          { text, clientMessageId },
          { token: t },
        );
        assert.ok(r.status === 200 || r.status === 201, r.text);
      }
      const final = await all();
      assert.deepEqual(
        final.map((m) => m.seq),
        final.map((_, i) => i + 1),
      );
      const counts = new Map<string, number>();
      for (const m of final) counts.set(m.clientMessageId, (counts.get(m.clientMessageId) ?? 0) + 1);
      assert.ok(
        [...counts.values()].every((n) => n === 1),
        'each message exactly once',
      );
      for (const cid of [...acked.keys(), ...unacked.keys()]) assert.equal(counts.get(cid), 1, cid);
      second.child.kill('SIGTERM');
    });
  });
}
