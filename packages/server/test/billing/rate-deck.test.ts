import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BillingError } from '../../src/billing/errors.ts';
import { PrefixIndex } from '../../src/billing/prefix-index.ts';
import { DeckVersion, RateDeck, parseRateDeckCsv } from '../../src/billing/rate-deck.ts';
import { GB_DECK_V1 } from './fixtures.ts';

const HEADER = 'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment';

function problemsOf(csv: string) {
  try {
    parseRateDeckCsv(csv);
  } catch (err) {
    assert.ok(err instanceof BillingError);
    assert.equal(err.code, 'deck_invalid');
    return err.problems ?? [];
  }
  assert.fail('the deck was accepted');
}

test('a valid deck parses, "+" prefixes and quoted names included', () => {
  const rows = parseRateDeckCsv(
    `\ufeff${HEADER}\r\n+44,"United Kingdom, fixed",Domestic,0.01,0,60,60\r\n\r\n33,France,international,0.045,0,30,6\r\n`,
  );
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0], {
    prefix: '44',
    destination: 'United Kingdom, fixed',
    cls: 'domestic',
    ratePerMinute: 10_000,
    connectionFee: 0,
    firstIncrement: 60,
    nextIncrement: 60,
  });
});

test('columns may come in any order; extra columns are ignored', () => {
  const rows = parseRateDeckCsv(
    'class,prefix,next_increment,first_increment,connection_fee,rate_per_minute,destination,notes\nmobile,447,6,30,0.05,0.06,UK mobile,x\n',
  );
  assert.equal(rows[0].prefix, '447');
  assert.equal(rows[0].nextIncrement, 6);
});

test('malformed decks are refused whole, every problem with its row number', () => {
  const problems = problemsOf(
    [
      HEADER,
      '44,UK,domestic,0.01,0,60,60', // row 2 fine
      '4a4,Bad,domestic,0.01,0,60,60', // row 3 bad prefix
      '33,France,international,-0.01,0,30,6', // row 4 negative rate
      '49,Germany,satellite,0.01,0,1,1', // row 5 unknown class
      '44,UK again,domestic,0.02,0,60,60', // row 6 duplicate prefix
      '39,Italy,international,0.01,0,0,6', // row 7 bad first increment
      '41,Switzerland,international,0.0000001,0,1,1', // row 8 too many decimals
    ].join('\n'),
  );
  const byRow = (row: number) => problems.filter((p) => p.row === row);
  assert.equal(byRow(2).length, 0);
  assert.equal(byRow(3)[0].column, 'prefix');
  assert.equal(byRow(4)[0].column, 'rate_per_minute');
  assert.match(byRow(4)[0].message, /negative/);
  assert.equal(byRow(5)[0].column, 'class');
  assert.match(byRow(6)[0].message, /already on row 2/);
  assert.equal(byRow(7)[0].column, 'first_increment');
  assert.equal(byRow(8)[0].column, 'rate_per_minute');
  assert.equal(problems.length, 6);
});

test('missing columns, empty files and broken quoting are refused', () => {
  assert.match(problemsOf('prefix,destination,class\n44,UK,domestic')[0].message, /missing column/);
  assert.equal(problemsOf('')[0].row, 1);
  assert.equal(problemsOf(HEADER + '\n')[0].message, 'the deck has no rates');
  assert.equal(problemsOf(`${HEADER}\n44,"UK,domestic,0.01,0,60,60\n`)[0].row, 2);
});

test('longest-prefix match', () => {
  const idx = new PrefixIndex();
  idx.insert('4', 0);
  idx.insert('447', 1);
  idx.insert('4479', 2);
  assert.equal(idx.lookup('447912345678'), 2);
  assert.equal(idx.lastMatchLength, 4);
  assert.equal(idx.lookup('447812345678'), 1);
  assert.equal(idx.lookup('441234'), 0);
  assert.equal(idx.lookup('331234'), -1);
  assert.equal(idx.lookup('44'), 0);
  // grows past its initial capacity
  for (let i = 0; i < 5000; i++) idx.insert(String(100000 + i), 10 + i);
  assert.equal(idx.lookup('104999123'), 10 + 4999);
  assert.equal(idx.lookup('100499912'), 10 + 499);
});

test('a deck answers with the version in force at an instant', () => {
  const rows = parseRateDeckCsv(GB_DECK_V1);
  const deck = new RateDeck('gb', 'GB', 'sell');
  deck.addVersion(new DeckVersion('gb', 2, 2000, rows));
  deck.addVersion(new DeckVersion('gb', 1, 1000, rows));
  assert.equal(deck.versionAt(999), null);
  assert.equal(deck.versionAt(1000)?.version, 1);
  assert.equal(deck.versionAt(1999)?.version, 1);
  assert.equal(deck.versionAt(2000)?.version, 2);
  assert.equal(deck.versionAt(2000)?.match('447912345678')?.prefix, '4479');
});
