/** Watcher sets: a change goes only to that user's watchers, as one buffer framed once for all of them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WatcherSets, type Watcher } from '../../src/realtime/watchers.ts';
import type { Presence } from '@parley/protocol';

const presence = (userId: string): Presence => ({
  userId,
  availability: 'busy',
  activity: 'none',
  manualUntil: null,
  note: null,
  outOfOffice: null,
  since: '2026-01-01T00:00:00.000Z',
});

function watcher(tenantId: string): Watcher & { got: Buffer[] } {
  const got: Buffer[] = [];
  return { tenantId, got, sendWire: (b) => got.push(b) };
}

test('a push reaches only the watchers of that user, all with the same bytes', () => {
  const sets = new WatcherSets();
  const [a, b, c] = [watcher('t1'), watcher('t1'), watcher('t1')];
  sets.add('usr_x', a);
  sets.add('usr_x', b);
  sets.add('usr_y', c);
  assert.equal(sets.push('t1', presence('usr_x')), 2);
  assert.equal(c.got.length, 0);
  assert.equal(a.got[0], b.got[0], 'one buffer for every watcher');
  assert.match(a.got[0]!.subarray(2).toString(), /"t":"presence".*"userId":"usr_x"/);
});

test('a watcher of another tenant never gets the push, even if it got into the set', () => {
  const sets = new WatcherSets();
  const own = watcher('t1');
  const foreign = watcher('t2');
  sets.add('usr_x', own);
  sets.add('usr_x', foreign);
  assert.equal(sets.push('t1', presence('usr_x')), 1);
  assert.equal(foreign.got.length, 0);
});

test('sets are released when their last watcher leaves, and ids are interned', () => {
  const sets = new WatcherSets();
  const a = watcher('t1');
  const b = watcher('t1');
  const key1 = sets.add('usr_' + 'x', a);
  const key2 = sets.add(['usr', 'x'].join('_'), b);
  assert.equal(key1, key2);
  sets.remove('usr_x', a);
  assert.equal(sets.size, 1);
  sets.remove('usr_x', b);
  assert.equal(sets.size, 0);
  assert.equal(sets.push('t1', presence('usr_x')), 0);
});
