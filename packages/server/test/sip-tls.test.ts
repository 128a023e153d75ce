/**
 * The SIP TLS certificate: without PARLEY_SIP_TLS_CERT a self-signed one is generated into the data
 * folder, logged as such, covers the advertised address, and is reused at the next start; configured
 * PEM files are used as given, and an unreadable one stops the start with the setting's name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import pino from 'pino';
import { sipTlsIdentity } from '../src/sip/tls-identity.ts';

function capture() {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

test('no certificate configured: a self-signed one is generated into the data folder, logged, and reused', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-sip-tls-'));
  try {
    const { log, lines } = capture();
    const names = ['192.0.2.10', '127.0.0.1', 'localhost'];
    const first = await sipTlsIdentity({ dataDir, names }, log);
    assert.equal(first.source, 'self-signed');
    assert.equal(first.certPath, join(dataDir, 'sip-tls', 'self-signed-cert.pem'));
    assert.equal(readFileSync(first.certPath, 'utf8'), first.cert);
    assert.equal(statSync(join(dataDir, 'sip-tls', 'self-signed-key.pem')).mode & 0o077, 0, 'key private');
    const x509 = new X509Certificate(first.cert);
    assert.equal(x509.checkIP('192.0.2.10'), '192.0.2.10');
    assert.equal(x509.checkHost('localhost'), 'localhost');
    assert.ok(new Date(x509.validTo).getTime() > Date.now() + 9 * 365 * 86_400_000);
    assert.ok(x509.checkPrivateKey((await import('node:crypto')).createPrivateKey(first.key)));
    assert.ok(
      lines.some((l) => l.level === 40 && /self-signed/.test(l.msg)),
      'a warning says so',
    );
    const again = await sipTlsIdentity({ dataDir, names }, log);
    assert.equal(again.cert, first.cert, 'the same certificate at the next start');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('configured PEM files are used as given; an unreadable one names its setting', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-sip-tls-'));
  try {
    const { log } = capture();
    const made = await sipTlsIdentity({ dataDir, names: ['127.0.0.1'] }, log);
    const cert = join(dataDir, 'mine-cert.pem');
    const key = join(dataDir, 'mine-key.pem');
    writeFileSync(cert, made.cert);
    writeFileSync(key, made.key);
    const id = await sipTlsIdentity(
      { dataDir, names: [], sipTlsCert: cert, sipTlsKey: key, sipTlsCa: cert },
      log,
    );
    assert.equal(id.source, 'configured');
    assert.equal(id.cert, made.cert);
    assert.equal(id.ca, made.cert);
    await assert.rejects(
      sipTlsIdentity({ dataDir, names: [], sipTlsCert: join(dataDir, 'none.pem'), sipTlsKey: key }, log),
      /PARLEY_SIP_TLS_CERT: cannot read/,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
