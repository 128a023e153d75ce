/**
 * Peer classes at the running server's SIP edge (issue 12): a flood from one unknown address is
 * dropped before parsing while another address is answered; an unknown source gets one answer to
 * an INVITE it never ACKs; a carrier over its limit gets 503 with Retry-After; completed
 * transactions do not count against the live limit; repeated bad credentials block a source.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { answerChallenge, FakeClock } from '@parley/sip';
import { startServer, type TestServer } from './helpers/server.ts';
import { UdpSipClient } from './helpers/sip-client.ts';
import { trustedScope } from '../src/directory/scope.ts';
import { InMemoryCarriers, InMemorySipCredentials } from '../src/sip/peers.ts';
import type { Overrides } from './helpers/server.ts';

const CARRIER = '127.0.0.6';

async function server(overrides: Overrides = {}, clock?: FakeClock): Promise<TestServer> {
  const s = await startServer('sqlite', overrides, {
    sipPeers: {
      carriers: new InMemoryCarriers([CARRIER]),
      credentials: new InMemorySipCredentials([
        { username: 'user', realm: 'example.com', password: 'right' },
      ]),
      clock,
    },
  });
  const t = await s.app.directory.createTenant({
    name: 'Example',
    domains: ['example.com'],
    country: 'GB',
    timeZone: 'Europe/London',
  });
  await s.app.directory.createUser(trustedScope(t.id), {
    address: 'user@example.com',
    displayName: 'User',
    passwordHash: null,
    role: 'user',
  });
  return s;
}

/**
 * Floods OPTIONS from `address` in another process (another core, as a real attacker would) at
 * about `perSecond` for `ms`; resolves with the number sent. The pace is bounded so that the test
 * measures what the server does with datagrams it receives, not which process wins the CPU on a
 * shared two-core machine (the kernel drops what no process reads, whatever the server does).
 */
function flood(address: string, port: number, ms: number, perSecond: number): Promise<number> {
  const code = `
    const s = require('node:dgram').createSocket('udp4');
    const msg = Buffer.from('OPTIONS sip:example.com SIP/2.0\\r\\nVia: SIP/2.0/UDP ${address}:9;rport;branch=z9hG4bKflood\\r\\n' +
      'Max-Forwards: 70\\r\\nFrom: <sip:f@example.org>;tag=f\\r\\nTo: <sip:example.com>\\r\\nCall-ID: flood\\r\\n' +
      'CSeq: 1 OPTIONS\\r\\nContent-Length: 0\\r\\n\\r\\n');
    let sent = 0;
    const start = Date.now();
    s.bind(0, '${address}', () => {
      const tick = () => {
        const elapsed = Date.now() - start;
        const due = Math.min(Math.floor((elapsed * ${perSecond}) / 1000), ${Math.ceil((ms * perSecond) / 1000)});
        while (sent < due) (s.send(msg, ${port}, '127.0.0.1'), sent++);
        if (elapsed < ${ms}) setTimeout(tick, 5);
        else s.close(() => process.stdout.write(String(sent)));
      };
      tick();
    });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', () => resolve(Number(out)));
  });
}

describe('SIP peer classes at the server', () => {
  test('a flood from 127.0.0.2 is dropped before parsing; all 30 OPTIONS from 127.0.0.3 are answered', async () => {
    const s = await server({ sipRate: 50, sipBurst: 100 });
    const probe = await UdpSipClient.open('127.0.0.3', s.app.sip!.udpPort);
    try {
      const t0 = Date.now();
      const flooding = flood('127.0.0.2', s.app.sip!.udpPort, 3000, 5000);
      await new Promise((r) => setTimeout(r, 200));
      // While the flood runs: 30 OPTIONS, 50 ms apart, each retransmitted as a UAC does (Timer E,
      // RFC 3261 section 17.1.2.2: 0.5 s, then 1 s) when the kernel lost it on a busy machine.
      const pending: Array<Promise<number | undefined>> = [];
      let retransmitted = 0;
      for (let i = 0; i < 30; i++) {
        const text = probe.request({ method: 'OPTIONS', target: 'example.com' });
        pending.push(
          (async () => {
            for (const wait of [500, 1000, 2000]) {
              const r = await probe.exchange(text, wait);
              if (r) return r.status;
              retransmitted++;
            }
            return undefined;
          })(),
        );
        await new Promise((r) => setTimeout(r, 50));
      }
      const answered = await Promise.all(pending);
      const sent = await flooding;
      const seconds = (Date.now() - t0) / 1000;
      const stats = s.app.sip!.endpoint.stats;
      if (process.env.SIP_DEBUG) console.log({ answered, retransmitted, sent, seconds, stats });
      assert.deepEqual(answered, new Array(30).fill(200), 'every OPTIONS from the second address');
      assert.ok(sent >= 10_000, `the flood sent ${sent}`);
      // The flooder's datagrams were parsed only up to its bucket: burst + rate x time; the rest,
      // thousands, were dropped unparsed.
      const parsedFromFlood = stats.received - (30 + retransmitted);
      assert.ok(parsedFromFlood <= 100 + 50 * seconds, `parsed ${parsedFromFlood} of the flood`);
      assert.ok(stats.notAdmitted > 5000, `dropped before parsing: ${stats.notAdmitted}`);
      assert.equal(s.app.sip!.peers.stats.unknownDropped, stats.notAdmitted);
    } finally {
      await probe.close();
      await s.close();
    }
  });

  test('an INVITE from an unknown source, never ACKed, draws one response', async () => {
    const s = await server();
    const c = await UdpSipClient.open('127.0.0.7', s.app.sip!.udpPort);
    try {
      const r = await c.exchange(c.request({ method: 'INVITE', target: 'user@example.com' }));
      assert.equal(r?.status, 407);
      // Timer G would resend it at 0.5 s and 1.5 s (RFC 3261 section 17.2.1); watch past both.
      await new Promise((resolve) => setTimeout(resolve, 1800));
      assert.deepEqual(
        c.responses.map((x) => x.status),
        [407],
      );
      assert.equal(s.app.sip!.endpoint.layer.serverCount, 0, 'nothing kept for it');
    } finally {
      await c.close();
      await s.close();
    }
  });

  test('a carrier over its request rate gets 503 with Retry-After, never a silent drop', async () => {
    const clock = new FakeClock(); // the buckets never refill during the test
    const s = await server({ sipCarrierRate: 5, sipCarrierBurst: 5, sipRetryAfter: 3 }, clock);
    const c = await UdpSipClient.open(CARRIER, s.app.sip!.udpPort);
    try {
      for (let i = 0; i < 20; i++) c.send(c.request({ method: 'OPTIONS', target: 'example.com' }));
      await c.next(() => c.responses.length >= 20);
      await new Promise((r) => setTimeout(r, 200));
      const statuses = c.responses.map((r) => r.status).sort();
      assert.deepEqual(statuses, [...new Array(5).fill(200), ...new Array(15).fill(503)]);
      for (const r of c.responses.filter((x) => x.status === 503)) assert.equal(r.get('retry-after'), '3');
      assert.equal(s.app.sip!.endpoint.stats.notAdmitted, 0);
    } finally {
      await c.close();
      await s.close();
    }
  });

  test('completed transactions do not count against the live limit: a carrier makes 40 calls in a row under a limit of 2', async () => {
    const s = await server({ sipCarrierTransactions: 2 });
    const c = await UdpSipClient.open(CARRIER, s.app.sip!.udpPort);
    try {
      const got: number[] = [];
      for (let i = 0; i < 40; i++) {
        // Never ACKed: each stays in Completed (Timer G and H) for 32 s after its final answer, here
        // 404 (the B2BUA knows no number `user`).
        const r = await c.exchange(c.request({ method: 'INVITE', target: 'user@example.com' }));
        got.push(r!.status);
      }
      assert.deepEqual(got, new Array(40).fill(404), 'a carrier is not challenged; no 503');
      assert.ok(s.app.sip!.endpoint.layer.serverCount >= 40, 'the completed ones are still held');
    } finally {
      await c.close();
      await s.close();
    }
  });

  test('repeated bad credentials block the source (dropped before parsing) until the block time has passed', async () => {
    const clock = new FakeClock();
    const s = await server({ sipAuthFailures: 3, sipAuthWindowMs: 60_000, sipBlockMs: 30_000 }, clock);
    const bad = await UdpSipClient.open('127.0.0.4', s.app.sip!.udpPort);
    const good = await UdpSipClient.open('127.0.0.5', s.app.sip!.udpPort);
    const options = (c: UdpSipClient) =>
      c.exchange(c.request({ method: 'OPTIONS', target: 'example.com' }), 1000);
    try {
      const attempt = async (password: string) => {
        const callId = `guess-${password}`;
        const first = await bad.exchange(bad.request({ method: 'REGISTER', target: 'example.com', callId }));
        const auth = answerChallenge(
          first!.get('www-authenticate')!,
          { username: 'user', password },
          'REGISTER',
          'sip:example.com',
        )!;
        const r = await bad.exchange(
          bad.request({
            method: 'REGISTER',
            target: 'example.com',
            callId,
            cseq: 2,
            headers: [['Authorization', auth]],
          }),
          1000,
        );
        return r?.status;
      };
      assert.equal(await attempt('guess1'), 403);
      assert.equal(await attempt('guess2'), 403);
      assert.equal(await attempt('guess3'), 403);
      const before = s.app.sip!.endpoint.stats.received;
      assert.equal(await options(bad), undefined, 'blocked: no answer');
      assert.equal(s.app.sip!.endpoint.stats.received, before, 'not even parsed');
      assert.equal(s.app.sip!.peers.stats.blockedDropped, 1);
      assert.equal((await options(good))?.status, 200, 'another address is not affected');
      clock.advance(29_999);
      assert.equal(await options(bad), undefined, 'still blocked');
      clock.advance(1);
      assert.equal((await options(bad))?.status, 200, 'unblocked after PARLEY_SIP_BLOCK_MS');
    } finally {
      await bad.close();
      await good.close();
      await s.close();
    }
  });
});
