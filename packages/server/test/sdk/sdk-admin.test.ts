/**
 * The SDK's admin and operator calls against a real server: a CSV-sized import in batches with progress
 * (bad rows reported with their index, the rest created), the operator's money calls with their
 * Idempotency-Key (a retry with the same key moves nothing twice), and a refused deck's row numbers on
 * the SDK's error.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ParleyClient, ParleyError, type ImportProgress } from '@parley/sdk';
import {
  engines,
  makeOperator,
  makeTenant,
  startServer,
  PASSWORD,
  type TestServer,
} from '../helpers/server.ts';

const client = (s: TestServer, token: string) => {
  const c = new ParleyClient({ baseUrl: s.url });
  c.useTokens({ accessToken: token, expiresIn: 900 });
  return c;
};

for (const engine of engines) {
  describe(`SDK admin and operator calls (${engine})`, () => {
    let s: TestServer;
    let op: ParleyClient;
    before(async () => {
      s = await startServer(engine);
      op = client(s, await makeOperator(s));
    });
    after(() => s.close());

    test('importUsers sends batches, reports progress, and keeps each row index', async () => {
      const t = await makeTenant(s, 'sdkimport');
      const admin = client(s, t.admin.token);
      const rows: Array<Record<string, unknown>> = Array.from({ length: 7 }, (_, i) => ({
        address: `row${i}@${t.domain}`,
        displayName: `Row ${i}`,
        password: PASSWORD,
      }));
      rows[4] = { address: `row4@${t.domain}`, displayName: '', password: PASSWORD };
      const progress: ImportProgress[] = [];
      const results = await admin.admin.importUsers(rows, {
        batchSize: 3,
        onProgress: (p) => progress.push(p),
      });
      assert.deepEqual(
        progress.map((p) => [p.done, p.created, p.failed]),
        [
          [3, 3, 0],
          [6, 5, 1],
          [7, 6, 1],
        ],
      );
      assert.deepEqual(
        results.filter((r) => r.status === 'error').map((r) => r.index),
        [4],
      );
      const bad = results[4]!;
      assert.ok(bad.status === 'error' && bad.error.field === 'displayName');
      const listed = await admin.admin.listUsers({ query: 'row', limit: 50 });
      assert.equal(listed.items.length, 6);
    });

    test('operator money calls carry an Idempotency-Key: the same key twice credits once', async () => {
      const t = await makeTenant(s, 'sdkmoney');
      const a = await op.operator.topUp(t.id, { amount: '5.00', reference: 'wire-1' }, 'key-sdk-1');
      const b = await op.operator.topUp(t.id, { amount: '5.00', reference: 'wire-1' }, 'key-sdk-1');
      assert.equal(a.id, b.id);
      await op.operator.adjust(t.id, '-1.25', 'correction');
      assert.equal((await op.operator.wallet(t.id)).balance, '3.75');
      const ledger = await op.operator.ledger(t.id);
      assert.deepEqual(
        ledger.items.map((e) => e.amount),
        ['-1.25', '5'],
      );
    });

    test("a refused deck's problems reach the SDK's error with their row numbers", async () => {
      const deck = await op.operator.createDeck({ name: `SDK ${engine}`, kind: 'sell' });
      const csv = [
        'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment',
        '44,United Kingdom,domestic,0.01,0,60,60',
        '33,France,nowhere,0.02,0,60,60',
      ].join('\n');
      await assert.rejects(op.operator.importDeck(deck.id, csv, '2026-12-01T00:00:00Z'), (err) => {
        assert.ok(err instanceof ParleyError);
        assert.equal(err.code, 'deck_invalid');
        assert.deepEqual(
          err.rows?.map((r) => r.row),
          [3],
        );
        return true;
      });
    });
  });
}
