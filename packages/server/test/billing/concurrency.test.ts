/**
 * Concurrency from two processes: on PostgreSQL each with its own connection pool, on SQLite each with
 * its own connection to the same file. 20 simultaneous authorisations (10 per process) for a tenant
 * whose credit covers few calls: the number that succeed matches the slice rule, and after every
 * success commits (each call running past its grant) the balance is zero, never below: no ledger entry
 * shows a negative balance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { T1, world } from './billing-fixture.ts';
import { ENGINES } from './storage-helper.ts';

const worker = fileURLToPath(new URL('./concurrency-worker.ts', import.meta.url));

function start(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', worker, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`worker exited ${code} before ready`)));
  });
  const done = new Promise<{ granted: number[]; refused: string[] }>((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`worker exited ${code}`));
      const last = out.trim().split('\n').at(-1) ?? '';
      resolve(JSON.parse(last) as { granted: number[]; refused: string[] });
    });
  });
  return { child, ready, done };
}

for (const engine of ENGINES) {
  test(`${engine}: two processes, 20 simultaneous authorisations: the slice rule holds and the balance never goes below zero`, async () => {
    const w = await world(engine);
    try {
      // US: first slice 300 s = 0.10 fee + 0.10. Credit 0.75: three slices of 300 s, one of 150 s (0.15), then none.
      await w.billing.wallet.topUp(T1, 750_000);
      const args = [w.t.url, 't1', 'u-payg', '+12125550100', '10'];
      const a = start(args);
      const b = start(args);
      await Promise.all([a.ready, b.ready]);
      a.child.stdin.write('go\n');
      b.child.stdin.write('go\n');
      const [ra, rb] = await Promise.all([a.done, b.done]);
      const grants = [...ra.granted, ...rb.granted].sort((x, y) => x - y);
      assert.deepEqual(grants, [150, 300, 300, 300]);
      assert.deepEqual([...ra.refused, ...rb.refused], Array(16).fill('insufficient_funds'));
      const v = await w.billing.wallet.view(T1);
      assert.deepEqual([v.balance, v.held], [0, 0]);
      const ledger = await w.billing.wallet.ledger(T1, { limit: 100 });
      assert.equal(ledger.filter((e) => e.kind === 'call').length, 4);
      assert.ok(ledger.every((e) => e.balanceAfter >= 0));
      // Each call ran 45 s past its grant and was charged for its grant only: 0.75 in all.
      assert.equal(-ledger.filter((e) => e.kind === 'call').reduce((s, e) => s + e.amount, 0), 750_000);
    } finally {
      await w.close();
    }
  });
}
