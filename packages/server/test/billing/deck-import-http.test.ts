/**
 * A large rate deck imports over HTTP: the deck-version import route has its own body limit
 * (PARLEY_DECK_MAX_BYTES), above the server's (PARLEY_BODY_LIMIT, 1 MB by default), which every other
 * route keeps; and that route admits the caller before reading the body.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeOperator, startServer, type TestServer } from '../helpers/server.ts';
import { code } from '../helpers/http.ts';

const HEADER = 'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment';

/** A deck of `n` distinct prefixes (about 50 bytes a row). */
function bigDeck(n: number): string {
  const rows = [HEADER];
  for (let i = 0; i < n; i++)
    rows.push(`44${String(i).padStart(7, '0')},United Kingdom area ${i},domestic,0.0100,0.05,60,60`);
  return rows.join('\n');
}

describe('deck import over HTTP', () => {
  let s: TestServer;
  let op: string;
  const DECK_MAX = 4 * 1024 * 1024;
  before(async () => {
    s = await startServer('sqlite', { deckMaxBytes: DECK_MAX });
    op = await makeOperator(s);
  });
  after(() => s.close());

  test('a 50,000-prefix deck above the global body limit imports; other routes still refuse such a body', async () => {
    const csv = bigDeck(50_000);
    const globalLimit = s.app.config.bodyLimit;
    assert.ok(csv.length > 2 * globalLimit, `deck is ${csv.length} bytes, limit ${globalLimit}`);
    const deck = await s.http.post(
      '/api/operator/billing/decks',
      { name: 'Big', kind: 'sell' },
      { token: op },
    );
    assert.equal(deck.status, 201, deck.text);
    const deckId = (deck.json as { id: string }).id;
    const imported = await s.http.post(
      `/api/operator/billing/decks/${deckId}/versions`,
      { csv, effectiveFrom: '2026-01-01T00:00:00Z' },
      { token: op },
    );
    assert.equal(imported.status, 201, imported.text.slice(0, 300));
    assert.deepEqual(imported.json, { deckId, version: 1, rows: 50_000 });

    // Another route with the same body: the global limit.
    const other = await s.http.post(
      '/api/operator/billing/decks',
      { name: 'Big', kind: 'sell', padding: csv },
      { token: op },
    );
    assert.equal(other.status, 413, other.text.slice(0, 300));
    assert.equal(code(other), 'payload_too_large');
  });

  test('the import route has a limit too, and admits the caller before reading the body', async () => {
    const deck = await s.http.post(
      '/api/operator/billing/decks',
      { name: 'Huge', kind: 'sell' },
      { token: op },
    );
    const deckId = (deck.json as { id: string }).id;
    const csv = bigDeck(100_000);
    assert.ok(csv.length > DECK_MAX);
    const tooBig = await s.http.post(
      `/api/operator/billing/decks/${deckId}/versions`,
      { csv, effectiveFrom: '2026-01-01T00:00:00Z' },
      { token: op },
    );
    assert.equal(tooBig.status, 413);
    assert.equal(code(tooBig), 'payload_too_large');
    const anonymous = await s.http.post(`/api/operator/billing/decks/${deckId}/versions`, {
      csv: bigDeck(30_000),
      effectiveFrom: '2026-01-01T00:00:00Z',
    });
    assert.equal(anonymous.status, 401);
    assert.equal(code(anonymous), 'unauthorized');
    // The server keeps serving.
    const list = await s.http.get('/api/operator/billing/decks', { token: op });
    assert.equal(list.status, 200);
  });
});
