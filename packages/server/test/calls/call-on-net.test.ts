/**
 * On-net calls (issue 20 item 2) as units, without sockets: `TrunkOutbound.route()` finds a dialled
 * number a user of this server owns before any carrier (none configured at all, and none tried), and
 * call control rings that user as a user call: within a tenant as a colleague, across tenants by
 * number only in every frame (no id, name, address, who hung up, nor Do not disturb), the caller's
 * number withheld when asked, and the records told it is on-net.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { FakeClock } from '@parley/sip';
import { ParleyError, type CallServerFrame, type CallView, type Presence } from '@parley/protocol';
import {
  CallControl,
  type CallTrunks,
  type CallUser,
  type OnNetRoute,
} from '../../src/calls/call-control.ts';
import type { CallSession } from '../../src/realtime/session.ts';
import { StaticCarrierDirectory } from '../../src/telephony/carriers.ts';
import { StaticNumberDirectory } from '../../src/telephony/numbers.ts';
import { TrunkOutbound } from '../../src/telephony/trunk-outbound.ts';
import { answerSdp, offer, recordingSink } from './call-devices.ts';

const code = (c: string) => (e: unknown) => e instanceof ParleyError && e.code === c;

// --- route(): the decision ---

function outbound(carriersFor: () => never[] = () => []) {
  const asked: string[] = [];
  const s = new TrunkOutbound({
    ua: {
      invite: () => {
        throw new Error('no INVITE for an on-net call');
      },
    },
    control: {
      frame: () => ({}),
      closed: () => {},
      endCall: () => false,
      attachDevice: () => {},
      failCall: () => false,
    },
    carriers: {
      carriersFor: async (tenantId, e164) => {
        asked.push(`${tenantId} ${e164}`);
        return new StaticCarrierDirectory(carriersFor()).carriersFor(tenantId, e164);
      },
    },
    numbers: new StaticNumberDirectory([
      { number: '+442079460018', carrierId: 'op', tenantId: 'acme', userId: 'alice' },
      { number: '+442079460020', carrierId: 'op', tenantId: 'acme', userId: 'bob' },
      { number: '+442079460777', carrierId: 'op', tenantId: 'globex', userId: 'gina' },
      { number: '+442079460800', carrierId: 'op', tenantId: 'globex', userId: null },
      { number: '+442079460900', carrierId: 'op', tenantId: null, userId: null },
    ]),
    withholdsCallerId: async (_t, userId) => userId === 'bob',
    withholdPrefixes: ['*67', '141'],
    dialPlanCountry: async () => 'GB',
    userByExtension: async () => null,
    media: {
      offerRtp: () => Promise.reject(new Error('no media')),
      answerRtp: () => Promise.reject(new Error('no media')),
      offerWebRtc: () => Promise.reject(new Error('no media')),
      answerWebRtc: () => Promise.reject(new Error('no media')),
      bridge: () => {},
    },
    records: () => {},
    localHost: '127.0.0.1',
    sessionExpires: 1800,
    phoneCaller: () => undefined,
    log: pino({ level: 'silent' }),
  });
  return { s, asked };
}

describe('on-net routing', () => {
  test('isOnNet answers without routing: owned numbers yes; unowned, extensions, emergency no; nothing asked of carriers or credit', async () => {
    const { s, asked } = outbound();
    const alice = { tenantId: 'acme', userId: 'alice' };
    assert.equal(await s.isOnNet(alice, '020 7946 0777'), true, "another tenant's user");
    assert.equal(await s.isOnNet(alice, '*67 020 7946 0020'), true, 'a colleague, withheld');
    assert.equal(await s.isOnNet(alice, '020 7946 0800'), false, 'a tenant number no user has');
    assert.equal(await s.isOnNet(alice, '020 7946 0999'), false, 'a number of nobody here');
    assert.equal(await s.isOnNet(alice, '999'), false, 'an emergency number');
    assert.equal(await s.isOnNet(alice, 'not a number'), false);
    assert.deepEqual(asked, [], 'no carrier was asked: nothing was routed (so nothing authorised)');
  });

  test('a number a user of another tenant owns is on-net, with no carrier asked (none exists)', async () => {
    const { s, asked } = outbound();
    assert.deepEqual(await s.route({ tenantId: 'acme', userId: 'alice' }, '020 7946 0777'), {
      kind: 'on-net',
      tenantId: 'globex',
      userId: 'gina',
      e164: '+442079460777',
      typed: '020 7946 0777',
      callerNumber: '+442079460018',
      withheld: false,
    } satisfies OnNetRoute);
    assert.deepEqual(asked, [], 'no carrier is looked up');
  });

  test('a colleague’s number is on-net too; withheld by *67 or by the caller’s setting', async () => {
    const { s } = outbound();
    const bob = (await s.route({ tenantId: 'acme', userId: 'alice' }, '+44 20 7946 0020')) as OnNetRoute;
    assert.deepEqual([bob.kind, bob.tenantId, bob.userId, bob.withheld], ['on-net', 'acme', 'bob', false]);
    const starred = (await s.route({ tenantId: 'acme', userId: 'alice' }, '*67 020 7946 0777')) as OnNetRoute;
    assert.deepEqual([starred.kind, starred.e164, starred.withheld], ['on-net', '+442079460777', true]);
    const fromBob = (await s.route({ tenantId: 'acme', userId: 'bob' }, '020 7946 0777')) as OnNetRoute;
    assert.equal(fromBob.withheld, true, 'Bob withholds his number on every call');
  });

  test('numbers given to no user go to the carriers as before', async () => {
    const { s, asked } = outbound();
    await assert.rejects(s.route({ tenantId: 'acme', userId: 'alice' }, '020 7946 0800'), code('no_route'));
    await assert.rejects(s.route({ tenantId: 'acme', userId: 'alice' }, '020 7946 0900'), code('no_route'));
    await assert.rejects(s.route({ tenantId: 'acme', userId: 'alice' }, '020 7946 0999'), code('no_route'));
    assert.equal(asked.length, 3, 'each was offered to the carriers');
  });
});

// --- call control: the call ---

interface FakeSession extends CallSession {
  frames: CallServerFrame[];
}

const users: CallUser[] = [
  { id: 'usr_a', tenantId: 'ten_1', address: 'alice@one.example', displayName: 'Alice A', enabled: true },
  { id: 'usr_b', tenantId: 'ten_1', address: 'bob@one.example', displayName: 'Bob B', enabled: true },
  { id: 'usr_g', tenantId: 'ten_2', address: 'gina@two.example', displayName: 'Gina G', enabled: true },
  { id: 'usr_x', tenantId: 'ten_2', address: 'xavier@two.example', displayName: 'Xavier', enabled: false },
];
const A_NUMBER = '+442079460018';
const NUMBERS: Record<string, string> = {
  '020 7946 0020': 'usr_b',
  '020 7946 0777': 'usr_g',
  '020 7946 0555': 'usr_x',
};
const E164 = (typed: string) => `+44${typed.replace(/\s/g, '').slice(1)}`;

function harness(o: { dnd?: string[] } = {}) {
  const clock = new FakeClock();
  const sessions = new Map<string, FakeSession[]>();
  const sink = recordingSink();
  const trunks: CallTrunks = {
    route: async (caller, typed) => {
      const withheld = typed.startsWith('*67');
      const plain = typed.replace(/^\*67\s*/, '');
      const owner = users.find((u) => u.id === NUMBERS[plain])!;
      return {
        kind: 'on-net',
        tenantId: owner.tenantId,
        userId: owner.id,
        e164: E164(plain),
        typed,
        callerNumber: caller.userId === 'usr_a' ? A_NUMBER : null,
        withheld,
      };
    },
    device: () => {
      throw new Error('no trunk leg for an on-net call');
    },
  };
  const control = new CallControl({
    directory: {
      userById: async (id) => users.find((u) => u.id === id) ?? null,
      userByAddress: async (a) => users.find((u) => u.address === a) ?? null,
    },
    trunks,
    presence: {
      get: (userId) =>
        ({ userId, availability: o.dnd?.includes(userId) ? 'do_not_disturb' : 'available' }) as Presence,
      setActivity: () => {},
    },
    records: sink,
    limits: { ringTimeoutMs: 30_000, lostGraceMs: 20_000, maxPerUser: 4 },
    log: pino({ level: 'silent' }),
    clock,
    now: () => 1_700_000_000_000 + clock.now(),
  });
  control.attach({ sessionsOf: (id) => sessions.get(id) ?? [] });
  const connect = (userId: string, key: string): FakeSession => {
    const u = users.find((x) => x.id === userId)!;
    const s: FakeSession = {
      tenantId: u.tenantId,
      userId,
      deviceKey: key,
      frames: [],
      push(f) {
        this.frames.push(f);
      },
    };
    sessions.set(userId, [...(sessions.get(userId) ?? []), s]);
    control.welcome(s);
    return s;
  };
  return { control, connect, sink };
}

const dial = (control: CallControl, s: CallSession, number: string) =>
  control.frame(s, {
    t: 'call.place',
    id: 1,
    to: { number },
    video: false,
    offer: offer() as never,
  }) as Promise<CallView>;

const views = (s: FakeSession): CallView[] =>
  s.frames.flatMap((f) => (f.t === 'call.incoming' || f.t === 'call.update' ? [f.call] : []));

const NOBODY = { userId: null, displayName: null, address: null };

describe('call control with on-net numbers', () => {
  test('across tenants: each side sees the other’s number only, in every frame; the records say on-net', async () => {
    const { control, connect, sink } = harness();
    const a = connect('usr_a', 'ses/a1');
    const g = connect('usr_g', 'ses/g1');
    const view = await dial(control, a, '020 7946 0777');
    assert.equal(view.state, 'ringing');
    assert.deepEqual(view.peer, { ...NOBODY, number: '+442079460777' });
    assert.equal(g.frames[0]?.t, 'call.incoming', 'Gina’s device rings, as for any call to her');
    await control.frame(g, { t: 'call.answer', id: 2, callId: view.id, answer: answerSdp() as never });
    assert.equal(control.get(view.id)?.state, 'connected');
    await control.frame(g, { t: 'call.hangup', id: 3, callId: view.id });
    for (const v of views(g)) assert.deepEqual(v.peer, { ...NOBODY, number: A_NUMBER });
    for (const v of views(a)) assert.deepEqual(v.peer, { ...NOBODY, number: '+442079460777' });
    const ended = views(a).at(-1)!;
    assert.deepEqual([ended.endReason, ended.endedBy], ['hangup', null], 'Gina’s id is not shown to Alice');
    assert.equal(views(g).at(-1)!.endedBy, 'usr_g', 'Gina sees she hung up');
    const text = JSON.stringify([a.frames, view]);
    for (const s of ['usr_g', 'ten_2', 'Gina', 'two.example']) assert.ok(!text.includes(s), `Alice got ${s}`);
    const gText = JSON.stringify(g.frames);
    for (const s of ['usr_a', 'ten_1', 'Alice', 'one.example'])
      assert.ok(!gText.includes(s), `Gina got ${s}`);
    const opened = sink.log.find((e) => e.step === 'opened')!.data;
    assert.deepEqual(
      opened,
      {
        callId: view.id,
        caller: { tenantId: 'ten_1', userId: 'usr_a', number: A_NUMBER },
        callee: { tenantId: 'ten_2', userId: 'usr_g', number: '+442079460777' },
        callerDevice: 'ses/a1',
        video: false,
        at: 1_700_000_000_000,
        onNet: { typed: '020 7946 0777' },
      },
      'the records get both tenants’ parties (call-records keeps one row each, by number) and on-net',
    );
    assert.ok(control.idle);
  });

  test('withheld: the callee in another tenant sees no number at all', async () => {
    const { control, connect } = harness();
    const a = connect('usr_a', 'ses/a1');
    const g = connect('usr_g', 'ses/g1');
    const view = await dial(control, a, '*67 020 7946 0777');
    assert.deepEqual(views(g)[0]!.peer, { ...NOBODY, number: null });
    await control.frame(a, { t: 'call.hangup', id: 2, callId: view.id });
    assert.equal(views(g).at(-1)!.endReason, 'cancelled');
    assert.equal(views(g).at(-1)!.endedBy, null, 'Alice’s id is not shown to Gina');
  });

  test('Do not disturb across tenants reads as not available to the caller (presence stays within a tenant)', async () => {
    const { control, connect } = harness({ dnd: ['usr_g', 'usr_b'] });
    const a = connect('usr_a', 'ses/a1');
    connect('usr_g', 'ses/g1');
    const other = await dial(control, a, '020 7946 0777');
    assert.deepEqual([other.state, other.endReason], ['ended', 'unavailable']);
    const colleague = await dial(control, a, '020 7946 0020');
    assert.deepEqual([colleague.state, colleague.endReason], ['ended', 'do_not_disturb']);
  });

  test('a colleague’s number rings them as a colleague, with the numbers; a disabled owner is not in service', async () => {
    const { control, connect, sink } = harness();
    const a = connect('usr_a', 'ses/a1');
    const b = connect('usr_b', 'ses/b1');
    const view = await dial(control, a, '020 7946 0020');
    assert.deepEqual(view.peer, {
      userId: 'usr_b',
      displayName: 'Bob B',
      address: 'bob@one.example',
      number: '+442079460020',
    });
    assert.deepEqual(views(b)[0]!.peer, {
      userId: 'usr_a',
      displayName: 'Alice A',
      address: 'alice@one.example',
      number: A_NUMBER,
    });
    const opened = sink.log.find((e) => e.step === 'opened')!.data as { onNet?: unknown };
    assert.deepEqual(opened.onNet, { typed: '020 7946 0020' });
    await control.frame(b, { t: 'call.decline', id: 2, callId: view.id });
    assert.equal(views(a).at(-1)!.endedBy, 'usr_b', 'a colleague’s id is shown, as for any internal call');
    await assert.rejects(dial(control, a, '020 7946 0555'), code('not_found'));
    assert.ok(control.idle);
  });
});
