/**
 * Call control's number targets (`to: {number}`) as one layer, with a fake `CallTrunks` and fake
 * sessions: a number is a callee party with no user, rung on one trunk leg; its early answer (a 183's
 * media) reaches the caller while it rings, but a user's ringing device may not send one; the trunk leg
 * answers by leg side though it carries the caller's user; `failCall` ends the call with the
 * carrier's reason and words; no trunk leg free ends it busy; an extension rings that user; no trunks
 * at all is `no_route`.
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
  type NumberRoute,
} from '../../src/calls/call-control.ts';
import type { CallSession } from '../../src/realtime/session.ts';
import { answerSdp, offer, recordingSink } from './call-devices.ts';

interface FakeSession extends CallSession {
  frames: CallServerFrame[];
}

const users: CallUser[] = [
  { id: 'usr_a', tenantId: 'ten_1', address: 'a@one.example', displayName: 'A', enabled: true },
  { id: 'usr_b', tenantId: 'ten_1', address: 'b@one.example', displayName: 'B', enabled: true },
];

function fake(userId: string, key: string, kind?: 'sip'): FakeSession {
  return {
    tenantId: 'ten_1',
    userId,
    deviceKey: key,
    kind,
    frames: [],
    push(f) {
      this.frames.push(f);
    },
  };
}

function harness(o: { trunks?: CallTrunks | null; free?: boolean } = {}) {
  const clock = new FakeClock();
  const sessions = new Map<string, FakeSession[]>();
  const sink = recordingSink();
  const legs: FakeSession[] = [];
  const trunks: CallTrunks = {
    route: async (_caller, typed) =>
      typed === '201'
        ? { kind: 'user', userId: 'usr_b' }
        : {
            kind: 'number',
            e164: '+442079460999',
            typed,
            callerNumber: '+442079460018',
            carrierIds: ['car'],
          },
    device: (caller, _route: NumberRoute) => {
      if (o.free === false) return null;
      const leg = fake(caller.userId, `trunk/car/${legs.length + 1}`, 'sip');
      legs.push(leg);
      return leg;
    },
  };
  const control = new CallControl({
    directory: {
      userById: async (id) => users.find((u) => u.id === id) ?? null,
      userByAddress: async (a) => users.find((u) => u.address === a) ?? null,
    },
    ...(o.trunks === null ? {} : { trunks: o.trunks ?? trunks }),
    presence: {
      get: (userId) => ({ userId, availability: 'available' }) as Presence,
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
    const s = fake(userId, key);
    sessions.set(userId, [...(sessions.get(userId) ?? []), s]);
    control.welcome(s);
    return s;
  };
  return { control, connect, sink, legs };
}

const dial = (control: CallControl, s: CallSession, number = '020 7946 0999') =>
  control.frame(s, {
    t: 'call.place',
    id: 1,
    to: { number },
    video: false,
    offer: offer() as never,
  }) as Promise<CallView>;

const code = (c: string) => (e: unknown) => e instanceof ParleyError && e.code === c;

describe('call control with number targets', () => {
  test('a number rings one trunk leg; its early answer reaches the caller; it answers; the record has both numbers', async () => {
    const { control, connect, sink, legs } = harness();
    const a = connect('usr_a', 'ses/a1');
    const view = await dial(control, a);
    assert.equal(view.state, 'ringing');
    assert.deepEqual(view.peer, { userId: null, displayName: null, address: null, number: '+442079460999' });
    const leg = legs[0]!;
    assert.equal(leg.frames[0]?.t, 'call.incoming');
    await control.frame(leg, { t: 'call.sdp', id: 2, callId: view.id, description: answerSdp() as never });
    assert.equal(a.frames.at(-1)?.t, 'call.sdp', 'early media: the answer reaches the caller while it rings');
    assert.equal(control.get(view.id)?.state, 'ringing');
    await control.frame(leg, { t: 'call.answer', id: 3, callId: view.id, answer: answerSdp() as never });
    assert.equal(control.get(view.id)?.state, 'connected');
    const opened = sink.log.find((e) => e.step === 'opened')!.data as {
      caller: { userId: string; number: string };
      callee: { userId: string | null; number: string };
    };
    assert.deepEqual(opened.caller, { tenantId: 'ten_1', userId: 'usr_a', number: '+442079460018' });
    assert.deepEqual(opened.callee, { tenantId: 'ten_1', userId: null, number: '+442079460999' });
    // The number hangs up (its BYE): ended by nobody of ours.
    assert.equal(control.failCall(leg, view.id, 'hangup'), true);
    const ended = a.frames.at(-1) as Extract<CallServerFrame, { t: 'call.update' }>;
    assert.equal(ended.call.endReason, 'hangup');
    assert.equal(ended.call.endedBy, null);
    assert.ok(control.idle);
  });

  test('a user’s ringing device may not answer early; only a number’s trunk leg may', async () => {
    const { control, connect } = harness();
    const a = connect('usr_a', 'ses/a1');
    const b = connect('usr_b', 'ses/b1');
    const view = (await control.frame(a, {
      t: 'call.place',
      id: 1,
      to: { userId: 'usr_b' },
      video: false,
      offer: offer() as never,
    })) as CallView;
    await assert.rejects(
      async () =>
        control.frame(b, { t: 'call.sdp', id: 2, callId: view.id, description: answerSdp() as never }),
      code('call_state'),
    );
    await control.close();
  });

  test('the carrier refuses: the call ends with its reason and words; all lines in use: busy at once', async () => {
    const { control, connect, legs } = harness();
    const a = connect('usr_a', 'ses/a1');
    const view = await dial(control, a);
    control.failCall(legs[0]!, view.id, 'failed', 'The phone network is not taking calls right now.');
    const ended = a.frames.at(-1) as Extract<CallServerFrame, { t: 'call.update' }>;
    assert.equal(ended.call.endReason, 'failed');
    assert.equal(ended.call.endDetail, 'The phone network is not taking calls right now.');

    const full = harness({ free: false });
    const a2 = full.connect('usr_a', 'ses/a2');
    const busy = await dial(full.control, a2);
    assert.equal(busy.state, 'ended');
    assert.equal(busy.endReason, 'busy');
    assert.equal(busy.endDetail, 'Every line to the phone network is in use.');
  });

  test('an extension rings that user; without trunks a number is no_route', async () => {
    const { control, connect, legs } = harness();
    const a = connect('usr_a', 'ses/a1');
    const b = connect('usr_b', 'ses/b1');
    const view = await dial(control, a, '201');
    assert.equal(view.peer.userId, 'usr_b');
    assert.equal(b.frames[0]?.t, 'call.incoming');
    assert.equal(legs.length, 0, 'no trunk leg for an extension');
    await control.close();

    const none = harness({ trunks: null });
    const a2 = none.connect('usr_a', 'ses/a2');
    await assert.rejects(dial(none.control, a2), code('no_route'));
  });
});
