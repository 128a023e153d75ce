/**
 * bench/b2bua's Parley: a server (SQLite in a temporary folder) with one tenant, one user with one
 * SIP device (`callee`, password `pw`: the SIPp uas registers as it), carrier A's trunk (its
 * allow-list the caller's address) and the DID it calls, assigned to that user. Every per-source
 * limit is lifted so one SIPp address measures the B2BUA, not the flood rules; keep-alives are off
 * (the uas scenario answers calls only). Prints `b2bua on PORT DOMAIN USER` once listening.
 *
 *   node --import tsx bench/b2bua/server.ts CARRIER_IP DID
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../packages/server/src/app.ts';
import { loadConfig } from '../../packages/server/src/config.ts';
import { trustedScope } from '../../packages/server/src/directory/scope.ts';
import { InMemorySipDevices } from '../../packages/server/src/sip/in-memory-devices.ts';
import { InMemoryCarriers } from '../../packages/server/src/sip/peers.ts';

const DOMAIN = 'bench.example';
const USER = 'callee';
const carrierIp = process.argv[2] ?? '127.0.0.2';
const did = process.argv[3] ?? '+441632960001';

const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-b2bua-'));
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
  sipPeers: { carriers: new InMemoryCarriers([carrierIp]), credentials: devices, devices },
});
const tenant = await app.directory.createTenant({
  name: 'Bench',
  domains: [DOMAIN],
  country: 'GB',
  timeZone: 'Europe/London',
});
const user = await app.directory.createUser(trustedScope(tenant.id), {
  address: `${USER}@${DOMAIN}`,
  displayName: 'Callee',
  passwordHash: null,
  role: 'user',
});
devices.add({
  username: USER,
  domain: DOMAIN,
  password: 'pw',
  deviceId: 'dev-callee',
  tenantId: tenant.id,
  userId: user.id,
  name: 'Desk phone',
});
// Carrier A: billing's carrier, its trunk (calls come from carrierIp), and the DID given to the user.
const carrier = await app.billing.decks.createCarrier('Carrier A');
await app.telephony.putTrunk({
  id: carrier.id,
  tenantId: null,
  addresses: [{ host: carrierIp, port: 5060 }],
  transport: 'udp',
  allow: [carrierIp],
  codecs: ['PCMA', 'PCMU'],
  callerIdFormat: 'e164',
  channelLimit: null,
  enabled: true,
});
await app.telephony.addNumber({ number: did, carrierId: carrier.id, tenantId: tenant.id, userId: user.id });

await app.listen();
console.log(`b2bua on ${app.sip!.udpPort} ${DOMAIN} ${USER}`);
const stop = async () => {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
