/**
 * A carrier's named address resolved as RFC 3263 says, against a DNS server on loopback: SRV targets
 * by priority then weight, each target's A records; no SRV: the name's A records at the given port;
 * IPs as they are; answers cached; the transport picks the SRV name.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TrunkResolver } from '../../src/telephony/trunk-dns.ts';
import { startDnsResponder, type DnsResponder } from '../helpers/dns-responder.ts';

let dns: DnsResponder;
before(async () => {
  dns = await startDnsResponder({
    srv: {
      '_sip._udp.sbc.carrier.test': [
        { priority: 20, weight: 0, port: 5080, target: 'backup.carrier.test' },
        { priority: 10, weight: 10, port: 5060, target: 'a.carrier.test' },
        { priority: 10, weight: 90, port: 5062, target: 'b.carrier.test' },
      ],
      '_sip._tcp.sbc.carrier.test': [{ priority: 1, weight: 1, port: 5090, target: 'a.carrier.test' }],
    },
    a: {
      'a.carrier.test': ['127.0.0.2'],
      'b.carrier.test': ['127.0.0.3', '127.0.0.4'],
      'backup.carrier.test': ['127.0.0.5'],
      'plain.carrier.test': ['127.0.0.6'],
      'sbc.carrier.test': ['127.0.0.9'],
    },
  });
});
after(() => dns.close());

describe('trunk addresses by DNS', () => {
  test('SRV: lowest priority first, the weighted pick within it, then each target’s A records', async () => {
    // random 0.5 of weight 100: past a's 10, inside b's 90: b first.
    const r = new TrunkResolver({ servers: [dns.address], random: () => 0.5, timeoutMs: 500 });
    assert.deepEqual(await r.targets([{ host: 'sbc.carrier.test', port: 5060 }], 'udp'), [
      { host: '127.0.0.3', port: 5062 },
      { host: '127.0.0.4', port: 5062 },
      { host: '127.0.0.2', port: 5060 },
      { host: '127.0.0.5', port: 5080 },
    ]);
    const low = new TrunkResolver({ servers: [dns.address], random: () => 0.05, timeoutMs: 500 });
    const first = await low.targets([{ host: 'sbc.carrier.test', port: 5060 }], 'udp');
    assert.deepEqual(first[0], { host: '127.0.0.2', port: 5060 }, 'a small draw picks the light target');
  });

  test('the transport names the SRV record; no SRV: the A records at the address’s port; IPs as given', async () => {
    const r = new TrunkResolver({ servers: [dns.address], timeoutMs: 500 });
    assert.deepEqual(await r.targets([{ host: 'sbc.carrier.test', port: 5060 }], 'tcp'), [
      { host: '127.0.0.2', port: 5090 },
    ]);
    assert.deepEqual(
      await r.targets(
        [
          { host: 'plain.carrier.test', port: 5070 },
          { host: '127.0.0.7', port: 5060 },
        ],
        'udp',
      ),
      [
        { host: '127.0.0.6', port: 5070 },
        { host: '127.0.0.7', port: 5060 },
      ],
    );
    assert.deepEqual(await r.targets([{ host: 'nowhere.carrier.test', port: 5060 }], 'udp'), []);
  });

  test('answers are cached for cacheS seconds', async () => {
    let now = 0;
    const r = new TrunkResolver({ servers: [dns.address], cacheS: 30, now: () => now, timeoutMs: 500 });
    const before = dns.asked.length;
    await r.targets([{ host: 'plain.carrier.test', port: 5060 }], 'udp');
    await r.targets([{ host: 'plain.carrier.test', port: 5060 }], 'udp');
    assert.equal(dns.asked.length - before, 2, 'one SRV and one A question for two calls');
    now = 31_000;
    await r.targets([{ host: 'plain.carrier.test', port: 5060 }], 'udp');
    assert.equal(dns.asked.length - before, 4, 'asked again once the answer is old');
  });
});
