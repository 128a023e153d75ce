/**
 * Call control as one layer: fake sessions and directory, a FakeClock for the ring and grace timers (no
 * sleeps), and call-record sinks that record or fail. Covers what the socket tests cannot make happen on
 * demand: a record store that refuses the opening, every timer cleared, the state machines refusing
 * illegal moves, cross-tenant peers shown by number only; plus the SDP checks and TURN credentials.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { FakeClock } from '@parley/sip';
import { ParleyError, type CallServerFrame, type Presence } from '@parley/protocol';
import { CallControl, type CallUser } from '../../src/calls/call-control.ts';
import { Call, type Party } from '../../src/calls/call.ts';
import { Leg } from '../../src/calls/leg.ts';
import { checkSdp } from '../../src/calls/sdp-check.ts';
import { iceServersFor, turnCredential } from '../../src/calls/ice-servers.ts';
import type { CallSession } from '../../src/realtime/session.ts';
import type { CallRecordSink } from '../../src/calls/record-sink.ts';
import { answerSdp, offer, recordingSink, sdp } from './call-devices.ts';

interface FakeSession extends CallSession {
  frames: CallServerFrame[];
}

const users: CallUser[] = [
  { id: 'usr_a', tenantId: 'ten_1', address: 'a@one.example', displayName: 'A', enabled: true },
  { id: 'usr_b', tenantId: 'ten_1', address: 'b@one.example', displayName: 'B', enabled: true },
];

function harness(records: CallRecordSink = recordingSink()) {
  const clock = new FakeClock();
  const sessions = new Map<string, FakeSession[]>();
  const activity: Array<[string, string | null]> = [];
  const control = new CallControl({
    directory: {
      userById: async (id) => users.find((u) => u.id === id) ?? null,
      userByAddress: async (a) => users.find((u) => u.address === a) ?? null,
    },
    presence: {
      get: (userId) => ({ userId, availability: 'available' }) as Presence,
      setActivity: (_t, userId, act) => void activity.push([userId, act]),
    },
    records,
    limits: { ringTimeoutMs: 30_000, lostGraceMs: 20_000, maxPerUser: 4 },
    log: pino({ level: 'silent' }),
    clock,
    now: () => 1_700_000_000_000 + clock.now(),
  });
  control.attach({ sessionsOf: (id) => sessions.get(id) ?? [] });
  const connect = (userId: string, device: string): FakeSession => {
    const u = users.find((x) => x.id === userId)!;
    const s: FakeSession = {
      tenantId: u.tenantId,
      userId,
      deviceKey: `ses/${device}`,
      frames: [],
      push(f) {
        this.frames.push(f);
      },
    };
    sessions.set(userId, [...(sessions.get(userId) ?? []), s]);
    control.welcome(s);
    return s;
  };
  return { control, clock, connect, activity };
}

const place = (control: CallControl, s: CallSession) =>
  control.frame(s, {
    t: 'call.place',
    id: 1,
    to: { userId: 'usr_b' },
    video: false,
    offer: offer() as never,
  }) as Promise<{
    id: string;
    state: string;
  }>;

describe('call control (one layer)', () => {
  test('a record store that refuses the opening refuses the call: nothing rang, nothing kept', async () => {
    const failing: CallRecordSink = {
      ...recordingSink(),
      opened: async () => {
        throw new ParleyError('storage_full', 'disk full');
      },
    };
    const { control, connect } = harness(failing);
    const a = connect('usr_a', 'a1');
    const b = connect('usr_b', 'b1');
    await assert.rejects(place(control, a), (e: ParleyError) => e.code === 'storage_full');
    assert.equal(b.frames.length, 0);
    assert.ok(control.idle);
  });

  test('the ring timeout and the lost grace run on the clock and are cleared with the call', async () => {
    const sink = recordingSink();
    const { control, clock, connect, activity } = harness(sink);
    const a = connect('usr_a', 'a1');
    const b = connect('usr_b', 'b1');
    const call = await place(control, a);
    assert.equal(call.state, 'ringing');
    clock.advance(29_999);
    assert.equal(control.get(call.id)?.state, 'ringing');
    clock.advance(1);
    assert.equal(control.size, 0);
    assert.equal(clock.pending, 0);
    assert.deepEqual(
      b.frames.map((f) => f.t),
      ['call.incoming', 'call.update'],
    );

    const second = await place(control, a);
    await control.frame(b, { t: 'call.answer', id: 2, callId: second.id, answer: answerSdp() as never });
    assert.deepEqual(activity, [
      ['usr_a', 'in_a_call'],
      ['usr_b', 'in_a_call'],
    ]);
    control.closed(b, false);
    assert.equal(clock.pending, 1, 'the grace timer');
    clock.advance(20_000);
    assert.equal(control.size, 0);
    assert.equal(clock.pending, 0);
    assert.ok(control.idle);
    assert.deepEqual(activity.slice(2), [
      ['usr_a', null],
      ['usr_b', null],
    ]);
    const last = a.frames.at(-1)!;
    assert.equal(last.t === 'call.update' && last.call.endReason, 'lost');
    await control.close();
    assert.deepEqual(
      sink.log.filter((e) => e.callId === second.id).map((e) => e.step),
      ['opened', 'ringing', 'answered', 'ended'],
    );
  });
});

describe('the call and leg state machines', () => {
  const clock = new FakeClock();
  const party = (side: 'caller' | 'callee', tenantId: string, userId: string): Party => ({
    side,
    tenantId,
    userId,
    displayName: userId,
    address: `${userId}@x.example`,
    number: '+441234567890',
  });
  const dummy = { tenantId: 't', userId: 'u', deviceKey: 'k', push: () => {} };

  test('illegal moves throw; ending is total and idempotent', () => {
    const caller = new Leg('caller', 'k1', dummy, 'up', clock);
    const call = new Call(
      'call_1',
      party('caller', 't1', 'u1'),
      party('callee', 't1', 'u2'),
      caller,
      offer() as never,
      false,
      0,
      clock,
    );
    const ringing = new Leg('callee', 'k2', dummy, 'ringing', clock);
    assert.throws(() => call.answer(ringing, 1), /illegal transition dialing -> connected/);
    call.ring(ringing, 1000, () => {});
    assert.throws(() => ringing.lose(10, () => {}), /illegal transition ringing -> lost/);
    call.answer(ringing, 1);
    assert.throws(() => call.ring(new Leg('callee', 'k3', dummy, 'ringing', clock), 1000, () => {}));
    ringing.lose(10, () => {});
    assert.equal(call.timing, true);
    assert.equal(call.end('lost', 2, null), true);
    assert.equal(call.end('hangup', 3, 'u1'), false, 'the first end stands');
    assert.equal(call.endReason, 'lost');
    assert.equal(call.timing, false);
    assert.ok(call.legs().every((l) => l.state === 'ended'));
    assert.throws(() => ringing.rebind(dummy), /cannot rebind an? ended leg/);
  });

  test('a party of another tenant is shown by number only, never by directory data', () => {
    const caller = new Leg('caller', 'k1', dummy, 'up', clock);
    const call = new Call(
      'call_2',
      party('caller', 't1', 'u1'),
      party('callee', 't2', 'u2'),
      caller,
      offer() as never,
      false,
      0,
      clock,
    );
    assert.deepEqual(call.viewFor(call.callee).peer, {
      userId: null,
      displayName: null,
      address: null,
      number: '+441234567890',
    });
    assert.equal(call.viewFor(call.caller).peer.userId, null);
  });
});

describe('SDP checks', () => {
  const code = (f: () => void) => {
    try {
      f();
      return 'ok';
    } catch (e) {
      return (e as ParleyError).code;
    }
  };
  test('session-level ICE and fingerprint count for every media line; a rejected line needs none', () => {
    const lines = sdp().split('\r\n');
    const move = (l: string[], prefix: string) => {
      const i = l.findIndex((x) => x.startsWith(prefix));
      const [line] = l.splice(i, 1);
      l.splice(4, 0, line!);
    };
    move(lines, 'a=fingerprint');
    move(lines, 'a=ice-ufrag');
    move(lines, 'a=ice-pwd');
    assert.equal(
      code(() => checkSdp({ type: 'offer', sdp: lines.join('\r\n') }, 'offer')),
      'ok',
    );
    const rejected = sdp({ ufrag: null, fingerprint: false }).replace('m=audio 9', 'm=audio 0');
    assert.equal(
      code(() => checkSdp({ type: 'offer', sdp: rejected }, 'offer')),
      'ok',
    );
    assert.equal(
      code(() => checkSdp({ type: 'offer', sdp: sdp({ ufrag: null }) }, 'offer')),
      'invalid_sdp',
    );
    assert.equal(
      code(() => checkSdp(answerSdp() as never, 'offer', 'offer')),
      'invalid_sdp',
    );
  });
});

describe('TURN credentials (coturn REST scheme)', () => {
  test('username is expiry:userId, credential base64(HMAC-SHA1(secret, username)), as openssl computes it', () => {
    const c = turnCredential('s3cret', 'usr_x', 1_700_000_000_999);
    assert.equal(c.username, '1700000000:usr_x');
    const expected = execFileSync('sh', [
      '-c',
      'printf %s "$0" | openssl dgst -sha1 -hmac s3cret -binary | base64',
      c.username,
    ])
      .toString()
      .trim();
    assert.equal(c.credential, expected);
  });

  test('no secret: STUN only and no expiry; with one, TURN valid for the TTL', () => {
    assert.deepEqual(iceServersFor({ turnTtl: 60, turnUrls: ['turn:t.example:3478'] }, 'usr_x', 0), {
      iceServers: [],
      expiresAt: null,
    });
    const now = Date.UTC(2026, 0, 1);
    const r = iceServersFor(
      { turnSecret: 'k', turnTtl: 600, turnUrls: ['turn:t.example:3478'], stunUrls: ['stun:s.example'] },
      'usr_x',
      now,
    );
    assert.equal(r.expiresAt, new Date(now + 600_000).toISOString());
    assert.deepEqual(r.iceServers[0], { urls: ['stun:s.example'] });
    assert.equal(r.iceServers[1]!.username, `${now / 1000 + 600}:usr_x`);
  });
});
