/**
 * Issue 19, a carrier given by name: its address is `sbc.carrier.test`, which a DNS server on loopback
 * (PARLEY_DNS_SERVERS) answers with two SRV records: priority 10 a target on 127.0.0.2 where nothing
 * listens, priority 20 a SIPp carrier on 127.0.0.3. Alice's call tries the first, fails over after
 * `trunkFailoverTimeout`, and reaches the SIPp carrier, whose busy answer she reads in words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demo } from '../web/harness.ts';
import { freePort } from '../../packages/sip/test/sipp-harness.ts';
import { startDnsResponder, type DnsResponder } from '../../packages/server/test/helpers/dns-responder.ts';
import { assertCarrierPassed, CALLED_E164, CALLED_TYPED, setUpTrunk, startCarrier } from './sipp-carrier.ts';
import { completeRecord, dialFrom, outboundSuite } from './outbound-steps.ts';

let dns: DnsResponder | undefined;
const suite = outboundSuite(
  async () => {
    dns = await startDnsResponder({});
    return { dnsServers: dns.address, trunkFailoverTimeout: 0.5, trunkDnsCache: 0 };
  },
  async () => {
    await dns?.close();
  },
);

test('a carrier named by DNS: SRV targets in priority order, the first silent, the call answered by the second', async () => {
  const app = suite.server.web.app;
  const carrier = await startCarrier('uas-refuse.xml', {
    ip: '127.0.0.3',
    pauseMs: 200,
    fill: { CODE: '486', TEXT: 'Busy Here' },
  });
  const silent = await freePort();
  dns!.records.srv = {
    '_sip._udp.sbc.carrier.test': [
      { priority: 20, weight: 1, port: carrier.port, target: 'b.carrier.test' },
      { priority: 10, weight: 1, port: silent, target: 'a.carrier.test' },
    ],
  };
  dns!.records.a = { 'a.carrier.test': ['127.0.0.2'], 'b.carrier.test': ['127.0.0.3'] };
  const trunk = await setUpTrunk(app, 5060, {
    addresses: [{ host: 'sbc.carrier.test', port: 5060 }],
    allow: ['127.0.0.3'],
  });
  const a = await suite.page(demo.alice);
  const started = Date.now();
  assert.equal(await dialFrom(a, CALLED_TYPED, { wait: false }), null);
  await a
    .getByText(`The call to ${CALLED_E164} did not go through. The number is busy.`)
    .first()
    .waitFor({ timeout: 10_000 });
  assert.ok(Date.now() - started >= 500, 'the priority-10 target had its failover timeout first');
  assertCarrierPassed(await carrier.done);
  assert.ok(dns!.asked.includes('SRV _sip._udp.sbc.carrier.test'), `asked: ${dns!.asked.join(', ')}`);
  const r = await completeRecord(suite, (r) => r.ended_at !== null);
  assert.equal(r.carrier, trunk.id);
  assert.equal(r.sip_end_code, 486);
  assert.equal(app.trunkOutbound?.size, 0, 'no trunk leg is left');
});
