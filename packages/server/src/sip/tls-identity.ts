/**
 * The certificate Parley's SIP over TLS listener presents: the configured PEM files, or else a
 * self-signed certificate generated once into the data folder and reused at every start, so phones
 * that were told to accept it keep working. Generated with the `selfsigned` package (WebCrypto, an
 * ECDSA P-256 key): no openssl binary is needed. A self-signed certificate is logged as such, since
 * phones and carriers will not trust it without being told to.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { generate } from 'selfsigned';

export interface TlsIdentity {
  cert: string;
  key: string;
  /** Where they came from: the configured files, or the generated pair in the data folder. */
  source: 'configured' | 'self-signed';
  certPath: string;
  /** PEM of the certificates trusted for connections Parley opens (PARLEY_SIP_TLS_CA). */
  ca?: string;
}

export interface TlsIdentitySettings {
  dataDir: string;
  sipTlsCert?: string;
  sipTlsKey?: string;
  sipTlsCa?: string;
  /** Names the generated certificate covers (IP addresses or host names). */
  names: string[];
}

/** Years a generated certificate is valid. */
const SELF_SIGNED_YEARS = 10;

export async function sipTlsIdentity(s: TlsIdentitySettings, log: Logger): Promise<TlsIdentity> {
  const ca = s.sipTlsCa === undefined ? undefined : readPem(s.sipTlsCa, 'PARLEY_SIP_TLS_CA');
  return { ...(await ownCertificate(s, log)), ca };
}

async function ownCertificate(s: TlsIdentitySettings, log: Logger): Promise<Omit<TlsIdentity, 'ca'>> {
  if (s.sipTlsCert && s.sipTlsKey) {
    return {
      cert: readPem(s.sipTlsCert, 'PARLEY_SIP_TLS_CERT'),
      key: readPem(s.sipTlsKey, 'PARLEY_SIP_TLS_KEY'),
      source: 'configured',
      certPath: s.sipTlsCert,
    };
  }
  const dir = join(s.dataDir, 'sip-tls');
  const certPath = join(dir, 'self-signed-cert.pem');
  const keyPath = join(dir, 'self-signed-key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    log.warn(
      { cert: certPath },
      'sip tls: no PARLEY_SIP_TLS_CERT; using the self-signed certificate generated earlier',
    );
    return {
      cert: readFileSync(certPath, 'utf8'),
      key: readFileSync(keyPath, 'utf8'),
      source: 'self-signed',
      certPath,
    };
  }
  const names = [...new Set(s.names.map((n) => n.toLowerCase()))];
  const now = Date.now();
  const pem = await generate([{ name: 'commonName', value: names[0] ?? 'parley' }], {
    keyType: 'ec',
    curve: 'P-256',
    notBeforeDate: new Date(now - 86_400_000),
    notAfterDate: new Date(now + SELF_SIGNED_YEARS * 365 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      {
        name: 'subjectAltName',
        altNames: names.map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })),
      },
    ],
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyPath, pem.private, { mode: 0o600 });
  writeFileSync(certPath, pem.cert);
  log.warn(
    { cert: certPath, names, fingerprint: pem.fingerprint },
    'sip tls: no PARLEY_SIP_TLS_CERT; generated a self-signed certificate (peers must be told to trust it)',
  );
  return { cert: pem.cert, key: pem.private, source: 'self-signed', certPath };
}

function readPem(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${setting}: cannot read ${path}: ${(err as Error).message}`);
  }
}
