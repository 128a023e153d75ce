/**
 * bench/b2bua's Parley: a server (SQLite in a temporary folder) with one tenant and `count` users, each
 * with one SIP device (`callee0`.., password `pw`: the SIPp uas registers them all from its one
 * address) and one DID (`firstDid` + i) on carrier A's trunk (its allow-list the caller's address).
 * Many users, because call control holds a user to `PARLEY_CALL_MAX_PER_USER` calls at once (set to its
 * maximum, 100, here): a carrier's calls go to many numbers. Every per-source limit is lifted so one
 * SIPp address measures the B2BUA, not the flood rules; keep-alives are off (the uas scenario answers
 * calls only). Prints `b2bua on PORT DOMAIN` once listening.
 *
 * Calls out (`uac-phone-call.xml`): a phone authenticating as one of those devices dials a number that is
 * none of ours, which goes out on carrier B (`carrierB`, the same SIPp uas: it only answers). Carrier A
 * has no address to call (calls in only) and carrier B no allow-list (calls out only), so the uas's
 * REGISTERs from 127.0.0.3 stay a device's. Carrier C is a second trunk at the same address as B.
 *
 * Two ways to run it (the benchmark runs both, side by side, to measure what routing and credit control
 * cost a call out): `routed` (the default): carriers B and C have cost decks (about 900 rows each, the
 * numbers called reaching both, C cheaper by its longer prefix), so least-cost routing ranks real decks
 * on every call, and credit control (on, as by default) authorises, keeps and rates it; `plain`: no cost
 * decks (routing then orders the two unpriced trunks by preference and name) and `creditControl` false
 * (`PARLEY_CREDIT_CONTROL=false`: calls neither authorised nor rated). On SIGTERM it prints
 * `b2bua records: NAME n, ...`, the call records by the carrier that carried them.
 *
 *   node --import tsx bench/b2bua/server.ts CARRIER_IP FIRST_DID COUNT CARRIER_B_HOST:PORT [routed|plain]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../packages/server/src/app.ts';
import { loadConfig } from '../../packages/server/src/config.ts';
import { trustedScope } from '../../packages/server/src/directory/scope.ts';
import { InMemorySipDevices } from '../../packages/server/src/sip/in-memory-devices.ts';
import { InMemoryCarriers } from '../../packages/server/src/sip/peers.ts';
import { IP_TRUNK } from '../../packages/server/src/telephony/carriers.ts';

const DOMAIN = 'bench.example';
const carrierIp = process.argv[2] ?? '127.0.0.2';
const firstDid = Number(process.argv[3] ?? '+441632960000');
const count = Number(process.argv[4] ?? 100);
/** Carrier B, where calls out go (`host:port`, the SIPp uas). */
const carrierB = process.argv[5] ?? '127.0.0.3:5060';
/** `plain`: no cost decks and credit control off; `routed`: both on. */
const plain = process.argv[6] === 'plain';

// In the benchmark's own temporary folder when it gives one (removed by it even if this is killed).
const dataDir = mkdtempSync(join(process.env.B2BUA_TMP ?? tmpdir(), 'parley-bench-b2bua-'));
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
    sipCarrierRate: lifted,
    sipCarrierBurst: lifted,
    sipCarrierTransactions: lifted,
    callMaxPerUser: 100,
    creditControl: !plain,
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
// Carrier A: billing's carrier and its trunk (calls come from carrierIp); then the users and their DIDs.
const carrier = await app.billing.decks.createCarrier('Carrier A');
await app.telephony.putTrunk({
  id: carrier.id,
  tenantId: null,
  addresses: [],
  transport: 'udp',
  allow: [carrierIp],
  codecs: ['PCMA', 'PCMU'],
  callerIdFormat: 'e164',
  channelLimit: null,
  enabled: true,
  ...IP_TRUNK,
});
const [bHost, bPort] = carrierB.split(':');
// Carriers B and C, calls out only, both at the same SIPp uas.
const outCarriers: Record<string, string> = {};
for (const name of ['Carrier B', 'Carrier C']) {
  const id = (await app.billing.decks.createCarrier(name)).id;
  outCarriers[name] = id;
  await app.telephony.putTrunk({
    id,
    tenantId: null,
    addresses: [{ host: bHost!, port: Number(bPort) }],
    transport: 'udp',
    allow: [],
    codecs: ['PCMA', 'PCMU'],
    callerIdFormat: 'e164',
    channelLimit: null,
    enabled: true,
    ...IP_TRUNK,
  });
}
const HEADER = 'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment';
if (!plain) {
  // Cost decks of a realistic size: every 44 + three digits, and the prefixes the called numbers
  // (+442079460000..) match, so each call is priced on both carriers and C (its 442079) wins.
  const filler = (base: number) =>
    Array.from(
      { length: 900 },
      (_, i) => `44${100 + i},UK ${100 + i},domestic,${(base + (i % 7) / 1000).toFixed(4)},0,1,1`,
    );
  const decks: Record<string, string[]> = {
    'Carrier B': [
      '44,United Kingdom,domestic,0.0100,0,1,1',
      '4420,London,domestic,0.0060,0.001,60,1',
      ...filler(0.01),
    ],
    'Carrier C': [
      '44,United Kingdom,domestic,0.0090,0,1,1',
      '442079,London central,domestic,0.0050,0,1,1',
      ...filler(0.009),
    ],
  };
  for (const [name, rows] of Object.entries(decks)) {
    const deck = await app.billing.decks.createDeck({
      name: `${name} costs`,
      kind: 'cost',
      carrierId: outCarriers[name],
    });
    await app.billing.decks.importVersion(deck.id, [HEADER, ...rows].join('\n'), 0);
  }
  await app.billing.decks.refresh();
}
await app.telephony.setDialPlanCountry(trustedScope(tenant.id), 'GB');
// Credit control is on every call out: a calling plan on a sell deck for every number, and credit.
const deck = await app.billing.decks.createDeck({ name: 'Bench', kind: 'sell' });
await app.billing.decks.importVersion(
  deck.id,
  [
    HEADER,
    '44,United Kingdom,domestic,0.01,0,1,1',
    ...['1', '2', '3', '5', '6', '7', '8', '9'].map((d) => `${d},Anywhere,international,0.02,0,1,1`),
  ].join('\n'),
  0,
);
const plan = await app.billing.plans.createPlan({
  name: 'Bench calling',
  pricePerUserMonth: 0,
  services: ['calling'],
  allowedClasses: ['domestic', 'mobile', 'international', 'toll-free', 'emergency'],
  sellDeckId: deck.id,
});
await app.billing.plans.setSeats(trustedScope(tenant.id), plan.id, count);
await app.billing.wallet.topUp(trustedScope(tenant.id), 9_000_000_000_000, { note: 'bench calls' });
for (let i = 0; i < count; i++) {
  const user = await app.directory.createUser(trustedScope(tenant.id), {
    address: `callee${i}@${DOMAIN}`,
    displayName: `Callee ${i}`,
    passwordHash: null,
    role: 'user',
  });
  devices.add({
    username: `callee${i}`,
    domain: DOMAIN,
    password: 'pw',
    deviceId: `dev-${i}`,
    tenantId: tenant.id,
    userId: user.id,
    name: `Desk phone ${i}`,
  });
  await app.billing.plans.assign(trustedScope(tenant.id), user.id, plan.id);
  await app.telephony.addNumber({
    number: `+${firstDid + i}`,
    carrierId: carrier.id,
    tenantId: tenant.id,
    userId: user.id,
  });
}

await app.listen();
console.log(`b2bua on ${app.sip!.udpPort} ${DOMAIN}`);
const stop = async () => {
  const byCarrier = await app.storage.db
    .selectFrom('call_records')
    .select(['carrier', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('carrier')
    .execute();
  const names: Record<string, string> = {
    [carrier.id]: 'Carrier A',
    ...Object.fromEntries(Object.entries(outCarriers).map(([n, id]) => [id, n])),
  };
  console.log(
    `b2bua records: ${byCarrier.map((r) => `${names[r.carrier ?? ''] ?? r.carrier ?? 'none'} ${r.n}`).join(', ')}`,
  );
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
