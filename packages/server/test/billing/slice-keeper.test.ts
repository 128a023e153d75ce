/** The call side of slices: renew before the grant ends, cut exactly at its end when refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SliceKeeper } from '../../src/billing/slice-keeper.ts';
import { fakeScheduler } from './fake-scheduler.ts';

const alive = async () => ({ ok: true as const });
import type { Extension } from '../../src/billing/credit-control.ts';

test('renews slices before they run out and cuts the call when the next is refused', async () => {
  const sched = fakeScheduler();
  const answers: Extension[] = [
    { ok: true, grantedSeconds: 600, heldPoolMinutes: 0, heldCredits: 0 },
    { ok: false, code: 'insufficient_funds', message: 'no more', grantedSeconds: 600 },
  ];
  const asked: number[] = [];
  const cut: Array<{ code: string; grantedSeconds: number }> = [];
  const ending: Array<{ code: string; endsAt: number }> = [];
  const keeper = new SliceKeeper(
    {
      keepalive: alive,
      extend: async () => {
        asked.push(sched.now());
        return answers.shift()!;
      },
    },
    'rsv_1',
    300,
    sched.now(),
    {
      renewBeforeSeconds: 30,
      onCutoff: (r) => cut.push(r),
      onEnding: (r) => ending.push(r),
      scheduler: sched,
    },
  );
  const t0 = sched.now();
  await sched.advance(269_000);
  assert.equal(asked.length, 0);
  await sched.advance(1_000);
  assert.deepEqual(asked, [t0 + 270_000]);
  assert.equal(keeper.grantedSeconds, 600);
  await sched.advance(300_000);
  assert.deepEqual(asked, [t0 + 270_000, t0 + 570_000]);
  assert.equal(keeper.currentState, 'ending');
  assert.deepEqual(ending, [{ code: 'insufficient_funds', endsAt: t0 + 600_000 }], 'told when it will end');
  assert.equal(cut.length, 0);
  await sched.advance(29_999);
  assert.equal(cut.length, 0);
  await sched.advance(1);
  assert.deepEqual(cut, [{ code: 'insufficient_funds', grantedSeconds: 600 }]);
  assert.equal(keeper.currentState, 'cut');
});

test('a call that ends first stops the keeper: no renewal, no cut', async () => {
  const sched = fakeScheduler();
  let asked = 0;
  const cut: unknown[] = [];
  const keeper = new SliceKeeper(
    {
      keepalive: alive,
      extend: async () => {
        asked++;
        return { ok: true, grantedSeconds: 600, heldPoolMinutes: 0, heldCredits: 0 };
      },
    },
    'rsv_2',
    300,
    sched.now(),
    { onCutoff: (r) => cut.push(r), scheduler: sched },
  );
  await sched.advance(100_000);
  keeper.stop();
  await sched.advance(1_000_000);
  assert.deepEqual([asked, cut.length, keeper.currentState], [0, 0, 'stopped']);
});

test('a failing renewal (storage down) ends the call at its grant rather than letting it run free', async () => {
  const sched = fakeScheduler();
  const cut: Array<{ code: string }> = [];
  new SliceKeeper(
    {
      keepalive: alive,
      extend: async () => {
        throw Object.assign(new Error('database unavailable'), { code: 'unavailable' });
      },
    },
    'rsv_3',
    60,
    sched.now(),
    { renewBeforeSeconds: 10, onCutoff: (r) => cut.push(r), scheduler: sched },
  );
  await sched.advance(59_999);
  assert.equal(cut.length, 0);
  await sched.advance(1);
  assert.equal(cut[0]?.code, 'unavailable');
});

test('a ringing call keeps its reservation alive, and is cut at once when a keepalive finds it released', async () => {
  const sched = fakeScheduler();
  const pings: number[] = [];
  let released = false;
  const cut: Array<{ code: string }> = [];
  let asked = 0;
  const keeper = new SliceKeeper(
    {
      keepalive: async () => {
        pings.push(sched.now());
        return released ? { ok: false, code: 'reservation_closed' } : { ok: true };
      },
      extend: async () => {
        asked++;
        return { ok: true, grantedSeconds: 600, heldPoolMinutes: 0, heldCredits: 0 };
      },
    },
    'rsv_4',
    300,
    null,
    { keepaliveSeconds: 60, onCutoff: (r) => cut.push(r), scheduler: sched },
  );
  const t0 = sched.now();
  await sched.advance(400_000);
  assert.equal(keeper.currentState, 'ringing');
  assert.deepEqual(
    pings.map((t) => t - t0),
    [60_000, 120_000, 180_000, 240_000, 300_000, 360_000],
  );
  assert.equal(asked, 0, 'no slice is renewed before answer');
  keeper.answered();
  await sched.advance(270_000);
  assert.equal(asked, 1, 'the first renewal comes 30 s before the grant, counted from answer');
  released = true;
  await sched.advance(60_000);
  assert.deepEqual(cut, [{ code: 'reservation_closed', grantedSeconds: 600 }]);
  assert.equal(keeper.currentState, 'cut');
  const n = pings.length;
  await sched.advance(600_000);
  assert.equal(pings.length, n, 'a cut call sends nothing more');
});

test('a renewal refused because the reservation was released cuts the call at once, not at its grant', async () => {
  const sched = fakeScheduler();
  const cut: Array<{ code: string }> = [];
  new SliceKeeper(
    {
      keepalive: alive,
      extend: async () => {
        throw Object.assign(new Error('reservation rsv_5 is expired'), { code: 'reservation_closed' });
      },
    },
    'rsv_5',
    300,
    sched.now(),
    { renewBeforeSeconds: 30, keepaliveSeconds: 600, onCutoff: (r) => cut.push(r), scheduler: sched },
  );
  await sched.advance(270_000);
  assert.deepEqual(cut, [{ code: 'reservation_closed', grantedSeconds: 300 }]);
});
