/**
 * The keep-alive's pacing, one layer with fakes (the real OPTIONS exchange is tested against
 * phones in sip-registrar-flows.test.ts): every binding is probed once per interval, and the probes
 * are spread over it instead of leaving in one burst.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, type UserAgentCore } from '@parley/sip';
import { KeepAlive } from '../src/sip/keepalive.ts';
import { RegistrationTable, type Binding } from '../src/sip/registrations.ts';

test('1,000 bindings are each probed once per interval, at most a fifth of them in any tenth of it', () => {
  const clock = new FakeClock();
  const table = new RegistrationTable({ clock, now: () => 1_000_000 + clock.now() });
  for (let i = 0; i < 1000; i++)
    table.put({
      bindingId: `b-${i}-${(i * 7919).toString(36)}`,
      tenantId: 't',
      userId: `u${i}`,
      deviceId: `d${i}`,
      aor: `sip:u${i}@example.com`,
      contact: `sip:u${i}@192.0.2.1:${5000 + i}`,
      flow: { protocol: 'UDP', address: '192.0.2.1', port: 5000 + i },
      expiresAt: 1_000_000 + 3_600_000,
      callId: `c${i}`,
      cseq: 1,
      q: 1,
      registeredAt: 1_000_000,
    } satisfies Binding);
  const sent: string[] = [];
  const ua = {
    endpoint: { advertisedAddress: '192.0.2.10' },
    request: (o: { target: string }) => {
      sent.push(o.target);
      return new Promise(() => {}); // never answered within the test
    },
  } as unknown as Pick<UserAgentCore, 'request' | 'endpoint'>;
  const ka = new KeepAlive({ ua, table, drop: async () => {}, intervalMs: 10_000, timeoutMs: 60_000, clock });
  const perSlice: number[] = [];
  for (let s = 0; s < 10; s++) {
    const before = sent.length;
    clock.advance(1000);
    perSlice.push(sent.length - before);
  }
  ka.close();
  assert.equal(sent.length, 1000, 'each binding once in the interval');
  assert.equal(new Set(sent).size, 1000);
  assert.ok(Math.max(...perSlice) <= 200, `spread: ${perSlice.join(',')}`);
});
