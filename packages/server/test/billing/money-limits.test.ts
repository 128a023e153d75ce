/**
 * The caps on money, on both engines: an amount past the per-request cap is refused at the edge with a
 * coded 400 (it used to answer 500), and a wallet never passes its largest balance, so its views keep
 * answering (a balance past 2^53 micro-units used to make them answer 500).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeOperator,
  makeTenant,
  engines,
  startServer,
  type TenantFixture,
  type TestServer,
} from '../helpers/server.ts';
import { code } from '../helpers/http.ts';
import { trustedScope } from '../../src/directory/scope.ts';
import { MAX_BALANCE, MAX_REQUEST_AMOUNT } from '../../src/billing/money.ts';

for (const engine of engines) {
  describe(`money limits on ${engine}`, () => {
    let s: TestServer;
    let op: string;
    let a: TenantFixture;
    before(async () => {
      s = await startServer(engine);
      op = await makeOperator(s);
      a = await makeTenant(s, 'caps');
    });
    after(() => s.close());

    let keys = 0;
    const adjust = (amount: string) =>
      s.http.post(
        `/api/operator/billing/tenants/${a.id}/adjustments`,
        { amount, note: 'cap test' },
        { token: op, headers: { 'idempotency-key': `cap-${++keys}` } },
      );

    test('an amount past the per-request cap is a coded 400 naming the field, never a 500', async () => {
      for (const amount of ['1000000000', '-1000000000', '10000000', '999999999999.5']) {
        const r = await adjust(amount);
        assert.equal(r.status, 400, `${amount}: ${r.text}`);
        assert.equal(code(r), 'validation_failed');
        assert.equal((r.json as { error: { field?: string } }).error.field, 'body.amount');
      }
      const top = await adjust('9999999.999999');
      assert.equal(top.status, 201, top.text);
      assert.equal((top.json as { amountMicros: number }).amountMicros, MAX_REQUEST_AMOUNT);
    });

    test('the balance stops at its cap with balance_limit, and every view still answers', async () => {
      const scope = trustedScope(a.id);
      let balance = (await s.app.billing.wallet.view(scope)).balance;
      while (MAX_BALANCE - balance >= MAX_REQUEST_AMOUNT)
        balance = (await s.app.billing.wallet.topUp(scope, MAX_REQUEST_AMOUNT)).balanceAfter;
      const rest = MAX_BALANCE - balance;
      if (rest > 0) await s.app.billing.wallet.topUp(scope, rest);
      const over = await adjust('0.000001');
      assert.equal(over.status, 422, over.text);
      assert.equal(code(over), 'balance_limit');
      const wallet = await s.http.get('/api/billing/wallet', { token: a.admin.token });
      assert.equal(wallet.status, 200, wallet.text);
      assert.equal((wallet.json as { balance: string }).balance, '1000000000');
      assert.equal((await s.http.get('/api/billing/ledger', { token: a.admin.token })).status, 200);
      const opView = await s.http.get(`/api/operator/billing/tenants/${a.id}/wallet`, { token: op });
      assert.equal((opView.json as { balanceMicros: number }).balanceMicros, MAX_BALANCE);
      // Money can still leave a full wallet.
      assert.equal((await adjust('-1')).status, 201);
    });
  });
}
