// The registration trunk's timing on a fake clock: refresh before the granted expiry with the same
// Call-ID and a rising CSeq, backoff doubling to the maximum after failures, errors in words, and
// unregistering when the trunk goes. The SIPp test (tests/trunks/registration.test.ts) does it on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { FakeClock } from '@parley/sip';
import { IP_TRUNK, type TrunkCarrier } from '../../src/telephony/carriers.ts';
import { TrunkStatusBoard } from '../../src/telephony/trunk-status.ts';
import {
  contactUser,
  refreshAfterS,
  retryAfterS,
  TrunkRegistrations,
  type RegisterSender,
} from '../../src/telephony/trunk-registration.ts';

const trunk = (over: Partial<TrunkCarrier> = {}): TrunkCarrier => ({
  id: 'c1',
  name: 'Reg carrier',
  tenantId: null,
  addresses: [{ host: '127.0.0.2', port: 5060 }],
  transport: 'udp',
  allow: [],
  codecs: ['PCMU'],
  callerIdFormat: 'e164',
  channelLimit: null,
  enabled: true,
  ...IP_TRUNK,
  auth: 'register',
  registration: {
    registrar: { host: '127.0.0.2', port: 5060 },
    username: 'acct',
    authUsername: null,
    password: 'secret',
    domain: null,
    expires: 3600,
  },
  ...over,
});

interface Sent {
  target: string;
  callId?: string;
  cseq?: number;
  expires: string | number | undefined;
  contact: string | undefined;
  username?: string;
}

/** A registrar that answers from a script: each entry a status (and granted expires for a 2xx). */
function fakeRegistrar(script: Array<{ status: number; reason?: string; expires?: number }>) {
  const sent: Sent[] = [];
  const ua: RegisterSender = {
    async request(o) {
      const h = new Map(o.headers ?? []);
      sent.push({
        target: o.target,
        callId: o.callId,
        cseq: o.cseq,
        expires: h.get('Expires'),
        contact: h.get('Contact') as string,
        username: o.credentials?.username,
      });
      const a = script.shift() ?? { status: 200, expires: 60 };
      // A challenged request is sent twice: the CSeq used last is one more than the first.
      const used = (o.cseq ?? 1) + 1;
      const response = {
        status: a.status,
        reason: a.reason ?? '',
        contact: [],
        get: (n: string) => (n === 'Expires' && a.expires !== undefined ? String(a.expires) : undefined),
      };
      return { request: { cseq: { seq: used, method: 'REGISTER' } }, response } as never;
    },
  };
  return { ua, sent };
}

const flush = () => new Promise((r) => setImmediate(r));

function setup(script: Parameters<typeof fakeRegistrar>[0], jitter = 0) {
  const clock = new FakeClock();
  const board = new TrunkStatusBoard();
  const reg = fakeRegistrar(script);
  const regs = new TrunkRegistrations({
    ua: reg.ua,
    status: board,
    localHost: '127.0.0.1:5070',
    retryMinS: 1,
    retryMaxS: 8,
    resolve: async (h) => h,
    clock,
    random: () => jitter,
    log: pino({ level: 'silent' }),
  });
  return { clock, board, regs, sent: reg.sent };
}

test('refresh goes a minute before a long grant runs out, at half a short one', () => {
  assert.equal(refreshAfterS(3600), 3540);
  assert.equal(refreshAfterS(60), 30);
  assert.equal(refreshAfterS(3), 1.5);
});

test('retries double from the minimum to the maximum, jitter only shortening them', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => retryAfterS(n, 1, 8, () => 0)),
    [1, 2, 4, 8, 8, 8],
  );
  assert.equal(
    retryAfterS(3, 1, 8, () => 0.999),
    4 * (1 - 0.25 * 0.999),
  );
});

test('registers, refreshes before the granted expiry with the same Call-ID and a rising CSeq', async () => {
  const { clock, board, regs, sent } = setup([{ status: 200, expires: 3 }]);
  regs.sync([trunk()]);
  await flush();
  assert.equal(board.get('c1').registration.state, 'registered');
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.username, 'acct');
  assert.equal(sent[0]!.expires, 3600);
  assert.match(sent[0]!.contact!, new RegExp(`^<sip:${contactUser(trunk())}@127\\.0\\.0\\.1:5070>$`));
  clock.advance(1400); // granted 3 s: the refresh goes at 1.5 s
  await flush();
  assert.equal(sent.length, 1);
  clock.advance(200);
  await flush();
  assert.equal(sent.length, 2);
  assert.equal(sent[1]!.callId, sent[0]!.callId);
  assert.ok(sent[1]!.cseq! > sent[0]!.cseq!);
  await regs.close();
});

test('a wrong password fails in words, then retries back off up to the maximum', async () => {
  const script = Array.from({ length: 10 }, () => ({ status: 401 }));
  const { clock, board, regs, sent } = setup(script);
  regs.sync([trunk()]);
  await flush();
  const r = board.get('c1').registration;
  assert.equal(r.state, 'failed');
  assert.match(r.lastError!, /wrong user name or password/);
  const times: number[] = [];
  for (let t = 0; t < 40_000 && sent.length < 6; t += 100) {
    clock.advance(100);
    const before = sent.length;
    await flush();
    if (sent.length > before) times.push(clock.now());
  }
  const gaps = times.map((t, i) => t - (i ? times[i - 1]! : 0));
  assert.deepEqual(gaps, [1000, 2000, 4000, 8000, 8000]);
  await regs.close();
});

test('errors a person can act on: unreachable and forbidden', async () => {
  const { board, regs } = setup([{ status: 503, reason: 'Service Unavailable' }]);
  regs.sync([trunk()]);
  await flush();
  assert.match(board.get('c1').registration.lastError!, /registrar unreachable/);
  await regs.close();
  const f = setup([{ status: 403, reason: 'Forbidden' }]);
  f.regs.sync([trunk()]);
  await flush();
  assert.match(f.board.get('c1').registration.lastError!, /^403 Forbidden/);
  await f.regs.close();
});

test('a removed trunk is unregistered (Expires: 0) and shows off; inbound matches only from the registrar', async () => {
  const { board, regs, sent } = setup([{ status: 200, expires: 60 }]);
  regs.sync([trunk()]);
  await flush();
  const user = contactUser(trunk());
  assert.equal(regs.carrierByContact(user, '127.0.0.2')?.id, 'c1');
  assert.equal(regs.carrierByContact(user, '::ffff:127.0.0.2')?.id, 'c1');
  assert.equal(regs.carrierByContact(user, '127.0.0.9'), undefined, 'a stranger with the contact');
  assert.equal(regs.carrierByContact('pt0000', '127.0.0.2'), undefined, 'the registrar, another user');
  regs.sync([]);
  await flush();
  await flush();
  assert.equal(sent.at(-1)!.expires, 0);
  assert.equal(board.get('c1').registration.state, 'off');
  assert.equal(regs.carrierByContact(user, '127.0.0.2'), undefined);
  await regs.close();
});

test('the contact user differs per carrier and per account password', () => {
  assert.notEqual(contactUser(trunk()), contactUser(trunk({ id: 'c2' })));
  assert.notEqual(
    contactUser(trunk()),
    contactUser(trunk({ registration: { ...trunk().registration!, password: 'other' } })),
  );
});
