/**
 * The mail routes on a real server: with no PARLEY_SMTP_URL the operator and the tenant admin see mail
 * off and the test mail answers mail_off; with a loopback smtp-server the test mail arrives and the
 * operator's status shows the server; users and tenant admins cannot reach the operator's routes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { makeOperator, makeTenant, startServer, type TestServer } from '../helpers/server.ts';

describe('mail HTTP API', () => {
  const got: string[] = [];
  const smtp = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, cb) {
      stream.resume();
      stream.on('end', () => {
        got.push(...session.envelope.rcptTo.map((r) => r.address));
        cb();
      });
    },
  });
  let off: TestServer;
  let on: TestServer;
  before(async () => {
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    const port = (smtp.server.address() as AddressInfo).port;
    off = await startServer('sqlite');
    on = await startServer('sqlite', { smtpUrl: `smtp://127.0.0.1:${port}`, mailRetries: 0 });
  });
  after(async () => {
    await off.close();
    await on.close();
    await new Promise<void>((r) => smtp.close(() => r()));
  });

  test('mail off: operator and tenant admin see it; the test mail says mail_off', async () => {
    const op = await makeOperator(off);
    const t = await makeTenant(off, 'mailoff');
    const st = await off.http.get('/api/operator/system/mail', { token: op });
    assert.equal(st.status, 200, st.text);
    assert.deepEqual(st.json, { configured: false });
    const adm = await off.http.get('/api/admin/mail', { token: t.admin.token });
    assert.deepEqual(adm.json, { configured: false });
    const r = await off.http.post(
      '/api/operator/system/mail/test',
      { to: 'ops@example.test' },
      { token: op },
    );
    assert.equal((r.json as { code: string }).code, 'mail_off');
    assert.equal((await off.http.get('/api/operator/system/mail', { token: t.admin.token })).status, 403);
  });

  test('mail on: the test mail arrives; the operator sees the server', async () => {
    const op = await makeOperator(on);
    const r = await on.http.post('/api/operator/system/mail/test', { to: 'ops@example.test' }, { token: op });
    assert.equal((r.json as { ok: boolean }).ok, true, r.text);
    assert.deepEqual(got, ['ops@example.test']);
    const st = (await on.http.get('/api/operator/system/mail', { token: op })).json as {
      configured: boolean;
      lastSentAt?: string;
    };
    assert.equal(st.configured, true);
    assert.ok(st.lastSentAt);
  });
});
