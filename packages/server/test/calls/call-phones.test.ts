/**
 * Call control's seams for phones, as one layer (fake sessions, a FakeClock): registered phones ring
 * beside the browsers (`CallPhones`), key presses relay to the peer only after the answer, a server-side
 * device places calls without a hello and is never rung by it, and `endCall` ends a call with the
 * reason only the server sees (`media_timeout`), stored in the record.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { FakeClock } from '@parley/sip';
import { ParleyError, type CallServerFrame, type Presence } from '@parley/protocol';
import { CallControl, type CallUser } from '../../src/calls/call-control.ts';
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

function harness(phonesOf: (u: CallUser) => FakeSession[]) {
  const clock = new FakeClock();
  const sessions = new Map<string, FakeSession[]>();
  const sink = recordingSink();
  const activity: Array<[string, string | null]> = [];
  const control = new CallControl({
    directory: {
      userById: async (id) => users.find((u) => u.id === id) ?? null,
      userByAddress: async (a) => users.find((u) => u.address === a) ?? null,
    },
    phones: { devicesOf: phonesOf },
    presence: {
      get: (userId) => ({ userId, availability: 'available' }) as Presence,
      setActivity: (_t, userId, act) => void activity.push([userId, act]),
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
  return { control, clock, connect, sink, activity };
}

const place = (control: CallControl, s: CallSession, to = 'usr_b') =>
  control.frame(s, {
    t: 'call.place',
    id: 1,
    to: { userId: to },
    video: false,
    offer: offer() as never,
  }) as Promise<{
    id: string;
    state: string;
  }>;

describe('call control with phones', () => {
  test('a call rings the browser and every registered phone; the phone answers, the browser stops', async () => {
    const phones: FakeSession[] = [];
    const { control, connect, sink, activity } = harness((u) => {
      const made = [
        fake(u.id, `sip/${phones.length + 1}`, 'sip'),
        fake(u.id, `sip/${phones.length + 2}`, 'sip'),
      ];
      phones.push(...made);
      return made;
    });
    const a = connect('usr_a', 'ses/a1');
    const b = connect('usr_b', 'ses/b1');
    const call = await place(control, a);
    assert.equal(call.state, 'ringing');
    for (const s of [b, ...phones]) assert.equal(s.frames[0]?.t, 'call.incoming');
    assert.equal(control.get(call.id)?.legOf('sip/1')?.kind, 'sip');
    assert.equal(control.get(call.id)?.legOf('ses/b1')?.kind, 'device');
    await control.frame(phones[0]!, {
      t: 'call.answer',
      id: 2,
      callId: call.id,
      answer: answerSdp() as never,
    });
    for (const s of [b, phones[1]!]) {
      const last = s.frames.at(-1)!;
      assert.equal(last.t === 'call.update' && last.call.endReason, 'answered_elsewhere');
    }
    assert.deepEqual(activity, [
      ['usr_a', 'in_a_call'],
      ['usr_b', 'in_a_call'],
    ]);
    const ringing = sink.log.find((e) => e.step === 'ringing')!.data as { devices: string[] };
    assert.deepEqual(ringing.devices, ['ses/b1', 'sip/1', 'sip/2']);
    await control.close();
  });

  test('key presses relay to the peer after the answer and are refused before it', async () => {
    const phone = fake('usr_b', 'sip/1', 'sip');
    const { control, connect } = harness(() => [phone]);
    const a = connect('usr_a', 'ses/a1');
    const call = await place(control, a);
    await assert.rejects(
      async () => control.frame(a, { t: 'call.dtmf', id: 3, callId: call.id, digits: '1' }),
      (e: ParleyError) => e.code === 'call_state',
    );
    await control.frame(phone, { t: 'call.answer', id: 2, callId: call.id, answer: answerSdp() as never });
    await control.frame(a, { t: 'call.dtmf', id: 4, callId: call.id, digits: '12#' });
    assert.deepEqual(phone.frames.at(-1), { t: 'call.dtmf', callId: call.id, digits: '12#' });
    await control.frame(phone, { t: 'call.dtmf', id: 5, callId: call.id, digits: '5' });
    assert.deepEqual(a.frames.at(-1), { t: 'call.dtmf', callId: call.id, digits: '5' });
    await control.close();
  });

  test('a server-side device places a call without a hello; media timing out ends it with its reason', async () => {
    const { control, connect, sink, clock } = harness(() => []);
    const b = connect('usr_b', 'ses/b1');
    const phone = fake('usr_a', 'sip/in1', 'sip');
    await assert.rejects(place(control, phone), (e: ParleyError) => e.code === 'call_state');
    control.attachDevice(phone);
    const call = await place(control, phone);
    assert.equal(call.state, 'ringing');
    // Ringing usr_a's own browser later must not ring the phone's caller device.
    const a2 = connect('usr_a', 'ses/a2');
    const back = await place(control, b, 'usr_a');
    await Promise.resolve();
    assert.ok(!phone.frames.some((f) => f.t === 'call.incoming' && f.call.id === back.id));
    assert.ok(a2.frames.some((f) => f.t === 'call.incoming' && f.call.id === back.id));
    await control.frame(b, { t: 'call.hangup', id: 9, callId: back.id });

    await control.frame(b, { t: 'call.answer', id: 2, callId: call.id, answer: answerSdp() as never });
    assert.equal(control.endCall(fake('usr_a', 'sip/other', 'sip'), call.id, 'media_timeout'), false);
    assert.equal(control.endCall(phone, call.id, 'media_timeout'), true);
    assert.equal(control.get(call.id), undefined);
    await control.close();
    const ended = sink.log.filter((e) => e.callId === call.id && e.step === 'ended');
    assert.equal(ended.length, 1);
    assert.equal((ended[0]!.data as { reason: string }).reason, 'media_timeout');
    const last = b.frames.at(-1)!;
    assert.equal(last.t === 'call.update' && last.call.endReason, 'media_timeout');
    assert.equal(clock.pending, 0);
    assert.ok(control.idle);
  });
});
