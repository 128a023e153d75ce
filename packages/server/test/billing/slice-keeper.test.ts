/** The call side of slices: renew before the grant ends, cut exactly at its end when refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SliceKeeper, type Scheduler } from '../../src/billing/slice-keeper.ts';
import type { Extension } from '../../src/billing/credit-control.ts';

/** A manual clock: `advance` runs due timers in order. */
function fakeScheduler() {
  let now = 1_000_000;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const s: Scheduler & { advance(ms: number): Promise<void> } = {
    now: () => now,
    set: (fn, ms) => {
      timers.set(++seq, { at: now + ms, fn });
      return seq;
    },
    clear: (h) => void timers.delete(h as number),
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        for (let i = 0; i < 5; i++) await Promise.resolve();
      }
      now = end;
    },
  };
  return s;
}

test('renews slices before they run out and cuts the call when the next is refused', async () => {
  const sched = fakeScheduler();
  const answers: Extension[] = [
    { ok: true, grantedSeconds: 600, heldPoolMinutes: 0, heldCredits: 0 },
    { ok: false, code: 'insufficient_funds', message: 'no more', grantedSeconds: 600 },
  ];
  const asked: number[] = [];
  const cut: Array<{ code: string; grantedSeconds: number }> = [];
  const keeper = new SliceKeeper(
    {
      extend: async () => {
        asked.push(sched.now());
        return answers.shift()!;
      },
    },
    'rsv_1',
    300,
    sched.now(),
    { renewBeforeSeconds: 30, onCutoff: (r) => cut.push(r), scheduler: sched },
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
