/**
 * bench/registrar's server: a Parley server (SQLite in a temporary folder) with one tenant and
 * `devices` SIP devices `u0`..`uN` (password `pw`, each of its own user), in memory as the tests have
 * them, and every per-source limit lifted so that SIPp on one address measures the registrar, not
 * the flood rules. Prints `registrar on PORT DOMAIN` once listening.
 *
 *   node --import tsx bench/registrar/server.ts DEVICES
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../packages/server/src/app.ts';
import { loadConfig } from '../../packages/server/src/config.ts';
import { trustedScope } from '../../packages/server/src/directory/scope.ts';
import { InMemorySipDevices } from '../../packages/server/src/sip/in-memory-devices.ts';
import { InMemoryCarriers } from '../../packages/server/src/sip/peers.ts';

export const DOMAIN = 'bench.example';
export const PASSWORD = 'pw';

const count = Number(process.argv[2] ?? 200);
const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-registrar-'));
const lifted = 10_000_000;
const config = loadConfig(
  {},
  {
    port: 0,
    sipPort: 0,
    sipTlsPort: -1,
    host: '127.0.0.1',
    dataDir,
    logLevel: 'silent',
    // SIPp answers the first challenge it reads with MD5 only.
    sipDigestAlgorithms: 'MD5,SHA-256',
    sipKeepAliveMs: 0,
    sipRate: lifted,
    sipBurst: lifted,
    sipDeviceRate: lifted,
    sipDeviceBurst: lifted,
    sipMaxTransactions: lifted,
    sipTotalTransactions: lifted,
    sipAuthFailures: lifted,
  },
);
const devices = new InMemorySipDevices();
const app = await createApp(config, {
  sipPeers: { carriers: new InMemoryCarriers(), credentials: devices, devices },
});
const tenant = await app.directory.createTenant({
  name: 'Bench',
  domains: [DOMAIN],
  country: 'GB',
  timeZone: 'Europe/London',
});
for (let i = 0; i < count; i++) {
  const u = await app.directory.createUser(trustedScope(tenant.id), {
    address: `u${i}@${DOMAIN}`,
    displayName: `User ${i}`,
    passwordHash: null,
    role: 'user',
  });
  devices.add({
    username: `u${i}`,
    domain: DOMAIN,
    password: PASSWORD,
    deviceId: `dev-${i}`,
    tenantId: tenant.id,
    userId: u.id,
    name: `Phone ${i}`,
  });
}
await app.listen();
console.log(`registrar on ${app.sip!.udpPort} ${DOMAIN}`);
const stop = async () => {
  console.error(`bindings at the end: ${app.registrations.size}`);
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
