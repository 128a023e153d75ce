/**
 * `POST /api/operator/telephony/numbers/import` on a real server: a good file adds every number (typed
 * with spaces, kept in E.164; carrier by name or id; tenant by domain or none) and audits each; a file
 * with bad rows imports nothing and names each bad row by its row number (the header is row 1) and
 * why; a tenant admin and a user cannot call it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeOperator,
  makeTenant,
  startServer,
  type TenantFixture,
  type TestServer,
} from '../helpers/server.ts';
import { code } from '../helpers/http.ts';

interface Refusal {
  error: { code: string; message: string; rows?: Array<{ row: number; column?: string; message: string }> };
}

describe('number CSV import', () => {
  let s: TestServer;
  let op: string;
  let a: TenantFixture;
  let carrierId = '';
  before(async () => {
    s = await startServer('sqlite');
    op = await makeOperator(s);
    a = await makeTenant(s, 'imp');
    const c = await s.http.post('/api/operator/billing/carriers', { name: 'Import Carrier' }, { token: op });
    assert.equal(c.status, 201, c.text);
    carrierId = (c.json as { id: string }).id;
    const put = await s.http.request(
      'PUT',
      `/api/operator/telephony/carriers/${carrierId}`,
      { addresses: [{ host: '127.0.0.2', port: 5060 }] },
      { token: op },
    );
    assert.equal(put.status, 200, put.text);
    // A billing carrier without a SIP trunk: its numbers could never ring.
    assert.equal(
      (await s.http.post('/api/operator/billing/carriers', { name: 'No Trunk' }, { token: op })).status,
      201,
    );
  });
  after(() => s.close());

  const numbers = async () =>
    (
      (await s.http.get('/api/operator/telephony/numbers', { token: op })).json as {
        items: { number: string }[];
      }
    ).items;

  test('a file with bad rows imports nothing and names each row', async () => {
    await s.http.post(
      '/api/operator/telephony/numbers',
      { number: '+442079460200', carrierId },
      { token: op },
    );
    const csv = [
      'number,carrier,tenant',
      `+44 20 7946 0201,Import Carrier,${a.domain}`, // row 2: good
      '020 7946 0202,Import Carrier,', // row 3: national
      '+442079460203,Nobody Telecom,', // row 4: no such carrier
      '+442079460204,No Trunk,', // row 5: no trunk
      '+442079460205,Import Carrier,nowhere.example', // row 6: no such tenant
      '+442079460200,Import Carrier,', // row 7: already in the inventory
      '+442079460201,Import Carrier,', // row 8: twice in the file
      '+4412,Import Carrier,', // row 9: not valid
    ].join('\n');
    const r = await s.http.post('/api/operator/telephony/numbers/import', { csv }, { token: op });
    assert.equal(r.status, 400, r.text);
    assert.equal(code(r), 'numbers_invalid');
    const rows = (r.json as Refusal).error.rows ?? [];
    assert.deepEqual(
      rows.map((p) => [p.row, p.column]),
      [
        [3, 'number'],
        [4, 'carrier'],
        [5, 'carrier'],
        [6, 'tenant'],
        [7, 'number'],
        [8, 'number'],
        [9, 'number'],
      ],
    );
    assert.match(rows.find((p) => p.row === 8)!.message, /already on row 2/);
    assert.match(rows.find((p) => p.row === 5)!.message, /no SIP trunk/);
    assert.match((r.json as Refusal).error.message, /row 3/);
    assert.deepEqual(
      (await numbers()).map((n) => n.number),
      ['+442079460200'],
    );

    const noColumn = await s.http.post(
      '/api/operator/telephony/numbers/import',
      { csv: 'phone,tenant\n+442079460206,\n' },
      { token: op },
    );
    assert.equal(code(noColumn), 'numbers_invalid');
    assert.deepEqual(
      ((noColumn.json as Refusal).error.rows ?? []).map((p) => [p.row, p.column]),
      [
        [1, 'number'],
        [1, 'carrier'],
      ],
    );
  });

  test('a good file adds every row, audited; tenant admins and users cannot import', async () => {
    const csv = [
      'carrier,number,tenant',
      `Import Carrier,+44 20 7946 0211,${a.domain.toUpperCase()}`,
      `${carrierId},+442079460212,`,
      '',
    ].join('\r\n');
    for (const token of [a.admin.token, a.user.token]) {
      const r = await s.http.post('/api/operator/telephony/numbers/import', { csv }, { token });
      assert.equal(r.status, 403, r.text);
    }
    assert.ok(!(await numbers()).some((n) => n.number === '+442079460211'));

    const r = await s.http.post('/api/operator/telephony/numbers/import', { csv }, { token: op });
    assert.equal(r.status, 201, r.text);
    assert.equal((r.json as { imported: number }).imported, 2);
    assert.deepEqual(await s.app.telephony.byNumber('+442079460211'), {
      number: '+442079460211',
      carrierId,
      tenantId: a.id,
      userId: null,
    });
    assert.equal((await s.app.telephony.byNumber('+442079460212'))?.tenantId, null);
    // The tenant admin sees the number given to the tenant, and its audit entry.
    const mine = await s.http.get('/api/telephony/numbers', { token: a.admin.token });
    assert.deepEqual(
      (mine.json as { items: { number: string }[] }).items.map((n) => n.number),
      ['+442079460211'],
    );
    const audit = (await s.http.get('/api/audit', { token: a.admin.token })).json as {
      items: Array<{ action: string; target: string }>;
    };
    assert.ok(audit.items.some((e) => e.action === 'telephony.number.add' && e.target === '+442079460211'));
  });
});
