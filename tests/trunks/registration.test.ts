/**
 * Issue 19, registration trunks, with SIPp as the carrier's registrar on 127.0.0.2: Parley registers
 * with digest (the registrar challenges, checks the Authorization names the account), is granted a
 * 2-second registration and refreshes it before it runs out on the same Call-ID (another would be a
 * new SIPp call and fail the run); the operator's status says registered. A registrar that refuses
 * our credentials shows in the operator view as failed with the words a person can act on.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSession, demo, startWebServer, type WebServer } from '../web/harness.ts';
import { CARRIER_IP, startCarrier, stopAll } from './sipp-carrier.ts';

interface Status {
  items: Array<{ carrierId: string; registration: { state: string; lastError: string | null } }>;
}

const servers: WebServer[] = [];
after(async () => {
  stopAll();
  for (const s of servers) await s.close();
});

async function registrationTrunk(web: WebServer, registrarPort: number) {
  const op = await apiSession(web, demo.operator.address, demo.operator.password);
  const { id } = await op.call<{ id: string }>('POST', '/api/operator/billing/carriers', {
    name: 'Reg Voice',
  });
  await op.call('PUT', `/api/operator/telephony/carriers/${id}`, {
    addresses: [{ host: CARRIER_IP, port: registrarPort }],
    allow: [],
    // SIPp here is a registrar only: an OPTIONS ping would be an unexpected call in its scenario.
    healthCheck: false,
    auth: 'register',
    registration: {
      registrar: { host: CARRIER_IP, port: registrarPort },
      username: 'acct',
      password: 'account-password',
    },
  });
  const status = async () =>
    (await op.call<Status>('GET', '/api/operator/telephony/carriers/status')).items.find(
      (s) => s.carrierId === id,
    )!.registration;
  return { id, status };
}

async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms;
  let v = await read();
  while (!ok(v)) {
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
    v = await read();
  }
  return v;
}

test('Parley registers with digest and refreshes before the 2 s expiry; the operator sees it registered', async () => {
  const registrar = await startCarrier('uas-registrar.xml', {
    fill: { EXPIRES: '2', WITHIN: '2000' },
    timeoutMs: 20_000,
  });
  const web = await startWebServer({ trunkRegisterRetryMin: 30 });
  servers.push(web);
  const t = await registrationTrunk(web, registrar.port);
  const r = await until('registered', t.status, (s) => s.state === 'registered');
  assert.equal(r.lastError, null);
  const sipp = await registrar.done;
  assert.equal(sipp.code, 0, `the registrar's scenario failed:\n${sipp.errors}`);
  assert.equal(sipp.stats['SuccessfulCall(C)'], '1');
});

test('a wrong password shows in the operator view as failed, in words', async () => {
  const registrar = await startCarrier('uas-registrar-refuse.xml', { timeoutMs: 20_000 });
  const web = await startWebServer({ trunkRegisterRetryMin: 30 });
  servers.push(web);
  const t = await registrationTrunk(web, registrar.port);
  const r = await until('failed', t.status, (s) => s.state === 'failed');
  assert.equal(r.lastError, '401: wrong user name or password');
});
