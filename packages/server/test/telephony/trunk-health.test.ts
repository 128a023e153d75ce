// The carrier health check's timing on a fake clock and a fake user agent: OPTIONS to every address
// of a health-checked carrier each interval; any final answer but 408/503 counts as alive; down after
// `downAfter` failures in a row and up after `upAfter` answers in a row (one lost ping changes
// nothing); the errors in words; pings stop when the trunk is disabled, its check turned off, or the
// app closes. The SIPp test (tests/trunks/failover.test.ts) does it on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { FakeClock, SipRequestFailed } from '@parley/sip';
import { IP_TRUNK, type TrunkCarrier } from '../../src/telephony/carriers.ts';
import { TrunkStatusBoard } from '../../src/telephony/trunk-status.ts';
import { nextState, TrunkHealth, type OptionsSender } from '../../src/telephony/trunk-health.ts';

const A = { host: '127.0.0.2', port: 5060 };
const B = { host: '127.0.0.3', port: 5070 };

const trunk = (over: Partial<TrunkCarrier> = {}): TrunkCarrier => ({
  id: 'c1',
  name: 'Health carrier',
  tenantId: null,
  addresses: [A, B],
  transport: 'udp',
  allow: [],
  codecs: ['PCMU'],
  callerIdFormat: 'e164',
  channelLimit: null,
  enabled: true,
  ...IP_TRUNK,
  healthCheck: true,
  ...over,
});

type Answer = number | 'timeout' | 'transport' | 'silence';

/** A user agent whose addresses answer OPTIONS as `answers` says now (a status, or a failure). */
function fakeUa(answers: Map<string, Answer>) {
  const sent: Array<{ method: string; target: string; to: string }> = [];
  const ua: OptionsSender = {
    request(o) {
      sent.push({ method: o.method, target: o.target, to: `${o.dest.address}:${o.dest.port}` });
      const a = answers.get(`${o.dest.address}:${o.dest.port}`) ?? 200;
      if (a === 'silence') return new Promise(() => {}); // nothing at all, not even the 32 s timeout
      if (a === 'timeout') return Promise.reject(new SipRequestFailed(408, undefined));
      if (a === 'transport') return Promise.reject(new SipRequestFailed(503, undefined));
      return Promise.resolve({
        request: {},
        response: { status: a, reason: a === 503 ? 'Service Unavailable' : 'Whatever' },
      } as never);
    },
  };
  return { ua, sent };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function setUp(answers: Map<string, Answer>) {
  const clock = new FakeClock();
  const board = new TrunkStatusBoard();
  const { ua, sent } = fakeUa(answers);
  const health = new TrunkHealth({
    ua,
    status: board,
    localHost: '127.0.0.1',
    intervalS: 1,
    downAfter: 3,
    upAfter: 2,
    clock,
    log: pino({ level: 'silent' }),
  });
  const state = (a: { host: string; port: number }) => board.get('c1', [a]).addresses[0]!;
  /** One interval passes and its pings are answered. */
  const tick = async () => {
    clock.advance(1000);
    await flush();
  };
  return { clock, board, health, sent, state, tick };
}

test('hysteresis: down after three failures in a row, up after two answers in a row; a 404 is alive', async () => {
  const answers = new Map<string, Answer>([['127.0.0.2:5060', 'timeout']]);
  const { health, sent, state, tick, board } = setUp(answers);
  health.sync([trunk()]);
  await flush();
  assert.deepEqual(
    sent.map((s) => [s.method, s.target, s.to]),
    [
      ['OPTIONS', 'sip:127.0.0.2:5060', '127.0.0.2:5060'],
      ['OPTIONS', 'sip:127.0.0.3:5070', '127.0.0.3:5070'],
    ],
  );
  assert.equal(state(B).state, 'up', 'the secondary answered the first ping');
  assert.equal(state(A).state, 'unknown', 'one failure is not enough');
  assert.equal(state(A).lastError, '408: no answer to OPTIONS');
  await tick();
  assert.equal(state(A).state, 'unknown');
  await tick();
  assert.equal(state(A).state, 'down', 'three failures in a row');
  assert.equal(board.isUp('c1', A), false);
  assert.equal(state(A).lastError, '408: no answer to OPTIONS');
  assert.equal(sent.length, 6, 'one ping per address per interval');

  answers.set('127.0.0.2:5060', 404); // something answers SIP there: alive, even refusing
  await tick();
  assert.equal(state(A).state, 'down', 'one answer is not enough to come back');
  answers.set('127.0.0.2:5060', 503);
  await tick();
  assert.equal(state(A).state, 'down');
  assert.equal(state(A).lastError, "503 Service Unavailable: the carrier's address is not taking calls");
  answers.set('127.0.0.2:5060', 200);
  await tick();
  await tick();
  assert.equal(state(A).state, 'up', 'two answers in a row');
  assert.equal(state(A).lastError, null);

  // Up: one or two lost pings change nothing, the third marks it down.
  answers.set('127.0.0.2:5060', 'transport');
  await tick();
  await tick();
  assert.equal(state(A).state, 'up');
  assert.equal(state(A).lastError, 'unreachable (transport error: nothing listening, or no route)');
  await tick();
  assert.equal(state(A).state, 'down');
  health.close();
});

test('a ping nobody answers is given up on when the next is due', async () => {
  const { health, state, tick } = setUp(new Map([['127.0.0.2:5060', 'silence']]));
  health.sync([trunk()]);
  await flush();
  await tick(); // the first ping's timeout
  assert.equal(state(A).lastError, '408: no answer to OPTIONS');
  await tick(); // the second's (the next ping goes one interval after a verdict)
  await tick();
  await tick();
  await tick();
  assert.equal(state(A).state, 'down');
  health.close();
});

test('pings stop and verdicts are forgotten when the check is turned off, the trunk disabled or removed, or the app closes', async () => {
  const { health, sent, state, tick, clock } = setUp(new Map([['127.0.0.2:5060', 'timeout']]));
  health.sync([trunk()]);
  await flush();
  await tick();
  await tick();
  assert.equal(state(A).state, 'down');
  health.sync([trunk({ healthCheck: false })]);
  assert.equal(health.size, 0);
  assert.equal(clock.pending, 0, 'no timer left');
  assert.equal(state(A).state, 'unknown', 'no stale verdict: calls try it again');
  const n = sent.length;
  await tick();
  assert.equal(sent.length, n, 'no more pings');

  health.sync([trunk()]);
  await flush();
  assert.equal(health.size, 2);
  health.sync([trunk({ enabled: false })]);
  assert.equal(health.size, 0);
  health.sync([trunk({ addresses: [B] })]);
  await flush();
  assert.equal(health.size, 1, 'only the address it still has');
  health.sync([]);
  assert.equal(health.size, 0, 'removed');
  health.sync([trunk()]);
  await flush();
  health.close();
  assert.equal(clock.pending, 0, 'closing stops every timer');
  health.sync([trunk()]);
  assert.equal(health.size, 0, 'nothing starts after close');
});

test('the hysteresis table', () => {
  const o = { downAfter: 3, upAfter: 2 };
  assert.equal(nextState('unknown', { alive: 1, failed: 0 }, o), 'up');
  assert.equal(nextState('unknown', { alive: 0, failed: 2 }, o), 'unknown');
  assert.equal(nextState('unknown', { alive: 0, failed: 3 }, o), 'down');
  assert.equal(nextState('up', { alive: 0, failed: 2 }, o), 'up');
  assert.equal(nextState('up', { alive: 0, failed: 3 }, o), 'down');
  assert.equal(nextState('down', { alive: 1, failed: 0 }, o), 'down');
  assert.equal(nextState('down', { alive: 2, failed: 0 }, o), 'up');
});
