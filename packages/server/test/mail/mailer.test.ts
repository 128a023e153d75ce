/**
 * The mailer against a real SMTP server (smtp-server) on loopback: a mail with auth arrives with its
 * subject and attachment; a wrong password and a refused recipient answer mail_refused without
 * retrying; a server that is down answers mail_unreachable after the bounded retries, no crash; with no
 * URL the mailer says mail is off.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createMailer, NoMailer, SmtpMailer } from '../../src/mail/mailer.ts';

const received: { from: string; to: string[]; raw: string }[] = [];
let port = 0;
const server = new SMTPServer({
  secure: false,
  disabledCommands: ['STARTTLS'],
  allowInsecureAuth: true,
  authMethods: ['PLAIN', 'LOGIN'],
  onAuth(auth, _session, cb) {
    if (auth.username === 'parley' && auth.password === 's3cret') cb(null, { user: 'parley' });
    else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
  },
  onRcptTo(address, _session, cb) {
    if (address.address.startsWith('nobody@')) {
      cb(Object.assign(new Error('No such user here'), { responseCode: 550 }));
    } else cb();
  },
  onData(stream, session, cb) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      received.push({
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((r) => r.address),
        raw: Buffer.concat(chunks).toString('utf8'),
      });
      cb();
    });
  },
  logger: false,
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.server.address() as AddressInfo).port;
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const mailer = (pass = 's3cret', p = port) =>
  new SmtpMailer({
    url: `smtp://parley:${encodeURIComponent(pass)}@127.0.0.1:${p}`,
    from: 'Parley <parley@example.test>',
    timeout: 2,
    retries: 2,
    retryDelay: 0.05,
  });

test('a mail with auth arrives with its subject, text and attachment', async () => {
  const m = mailer();
  const r = await m.send({
    to: 'admin@example.test',
    subject: 'Emergency call from 201',
    text: 'Alice called 112.',
    attachments: [{ filename: 'location.xml', content: '<presence/>', contentType: 'application/pidf+xml' }],
  });
  m.close();
  assert.equal(r.ok, true, JSON.stringify(r));
  const got = received.at(-1)!;
  assert.deepEqual(got.to, ['admin@example.test']);
  assert.equal(got.from, 'parley@example.test');
  assert.match(got.raw, /Subject: Emergency call from 201/);
  assert.match(got.raw, /Alice called 112\./);
  assert.match(got.raw, /location\.xml/);
  assert.equal(m.status().lastError, undefined);
  assert.equal(m.status().server, `127.0.0.1:${port}`);
  assert.ok(m.status().lastSentAt);
});

test('a wrong password is mail_refused, tried once, and shown as the last error', async () => {
  const before = received.length;
  const m = mailer('wrong');
  const r = await m.send({ to: 'admin@example.test', subject: 's', text: 't' });
  m.close();
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, 'mail_refused');
  assert.equal(r.attempts, 1);
  assert.equal(m.status().lastError?.code, 'mail_refused');
  assert.equal(received.length, before);
});

test('a refused recipient is mail_refused, not retried', async () => {
  const before = received.length;
  const m = mailer();
  const r = await m.send({ to: 'nobody@example.test', subject: 's', text: 't' });
  m.close();
  assert.equal(!r.ok && r.code, 'mail_refused');
  assert.equal(r.attempts, 1);
  assert.match(!r.ok ? r.message : '', /No such user/);
  assert.equal(received.length, before);
});

test('a server that is down is mail_unreachable after the bounded retries, and nothing crashes', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const deadPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const m = mailer('s3cret', deadPort);
  const r = await m.send({ to: 'admin@example.test', subject: 's', text: 't' });
  m.close();
  assert.equal(!r.ok && r.code, 'mail_unreachable');
  assert.equal(r.attempts, 3);
  assert.equal(m.status().lastError?.code, 'mail_unreachable');
});

test('no URL: the mailer says mail is off', async () => {
  const m = createMailer({ mailFrom: 'x@y', mailTimeout: 1, mailRetries: 0 });
  assert.ok(m instanceof NoMailer);
  const r = await m.send({ to: 'admin@example.test', subject: 's', text: 't' });
  assert.equal(!r.ok && r.code, 'mail_off');
  assert.deepEqual(m.status(), { configured: false });
});
