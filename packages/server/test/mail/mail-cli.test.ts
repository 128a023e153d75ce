/** `parley mail test --to`: the mail arrives at a loopback smtp-server; with no URL it exits 1 saying mail_off. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

const bin = new URL('../../bin/parley.js', import.meta.url).pathname;
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
let port = 0;
before(async () => {
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  port = (smtp.server.address() as AddressInfo).port;
});
after(async () => {
  await new Promise<void>((r) => smtp.close(() => r()));
});

function parley(args: string[], env: Record<string, string>) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], {
      env: {
        ...process.env,
        PARLEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'parley-mail-')),
        PARLEY_LOG_LEVEL: 'silent',
        PARLEY_WEB_BUILD: 'never',
        PARLEY_SMTP_URL: '',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    const t = setTimeout(() => p.kill(), 60_000);
    p.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

test('parley mail test sends to the configured SMTP server', async () => {
  const r = await parley(['mail', 'test', '--to', 'ops@example.test'], {
    PARLEY_SMTP_URL: `smtp://127.0.0.1:${port}`,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /sent to ops@example\.test/);
  assert.deepEqual(got, ['ops@example.test']);
});

test('parley mail test with no SMTP URL exits 1 with mail_off', async () => {
  const r = await parley(['mail', 'test', '--to', 'ops@example.test'], {});
  assert.equal(r.status, 1);
  assert.match(r.stderr, /mail_off/);
});
