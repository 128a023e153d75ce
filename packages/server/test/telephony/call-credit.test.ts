/**
 * Unit tests of credit control on the call path (telephony/call-credit.ts) with a fake credit control
 * and a manual clock: refusals in words, emergency calls never kept, the cut at the grant, renewals,
 * keepalives while ringing, commit of the real duration, release of unanswered and abandoned calls,
 * and the `Reason` header phones get. The calls themselves run against SIPp in
 * tests/trunks/credit*.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ParleyError } from '@parley/protocol';
import type { Authorisation, Extension } from '../../src/billing/credit-control.ts';
import type { CallRecord } from '../../src/billing/call-record.ts';
import { CallCredit, CUT_OFF_WORDS, reasonHeader } from '../../src/telephony/call-credit.ts';
import { fakeScheduler } from '../billing/fake-scheduler.ts';

const ALICE = { tenantId: 'acme', userId: 'alice' };
const NUMBER = '+442079460999';

function granted(seconds: number): Authorisation {
  return {
    ok: true,
    emergency: false,
    reservationId: 'rsv-1',
    grantedSeconds: seconds,
    maxSeconds: seconds,
    cls: 'domestic',
    matchedPrefix: '44',
    deck: { id: 'deck', version: 1 },
    ratePerMinute: 120_000,
    connectionFee: 0,
    firstIncrement: 1,
    nextIncrement: 1,
    heldPoolMinutes: 0,
    heldCredits: 50_000,
  };
}

function world(answer: Authorisation, o: { extend?: () => Extension; keepaliveOk?: () => boolean } = {}) {
  const sched = fakeScheduler();
  const calls: string[] = [];
  const commits: CallRecord[] = [];
  const links: string[] = [];
  const credit = {
    authorise: async () => answer,
    extend: async (): Promise<Extension> => {
      calls.push('extend');
      return o.extend?.() ?? { ok: false, code: 'insufficient_funds', message: 'none', grantedSeconds: 25 };
    },
    keepalive: async () => {
      calls.push('keepalive');
      return (o.keepaliveOk?.() ?? true)
        ? { ok: true as const }
        : { ok: false as const, code: 'reservation_closed' as const };
    },
    commit: async (id: string, r: CallRecord) => {
      calls.push(`commit ${id}`);
      commits.push(r);
      return { amount: 50_000 } as never;
    },
    release: async (id: string) => void calls.push(`release ${id}`),
  };
  const cc = new CallCredit({
    credit,
    linkCall: async (rid, callId) => void links.push(`${rid}=${callId}`),
    renewBeforeSeconds: 5,
    keepaliveSeconds: 10,
    scheduler: sched,
    now: sched.now,
    log: pino({ level: 'silent' }),
  });
  return { sched, calls, commits, links, cc };
}

describe('call credit', () => {
  test('a refusal is a coded ParleyError whose words name the number', async () => {
    for (const [code, words] of [
      ['insufficient_funds', `Not enough credit to call ${NUMBER}.`],
      ['no_licence', `You have no calling licence, so ${NUMBER} cannot be called.`],
      ['no_rate', `Calls to ${NUMBER} have no price, so they are not allowed.`],
      ['class_not_allowed', `Your plan does not allow calls to ${NUMBER}.`],
      [
        'premium_blocked',
        `Calls to premium-rate numbers such as ${NUMBER} are blocked for your organisation.`,
      ],
    ] as const) {
      const { cc } = world({ ok: false, code, message: 'billing words' });
      await assert.rejects(
        cc.authorise(ALICE, NUMBER),
        (err: unknown) => err instanceof ParleyError && err.code === code && err.message === words,
      );
    }
  });

  test('an emergency call has no reservation: no keeper, never cut, nothing settled', async () => {
    const { cc, calls, sched } = world({
      ok: true,
      emergency: true,
      reservationId: null,
      grantedSeconds: null,
      maxSeconds: null,
      cls: 'emergency',
    });
    const grant = await cc.authorise(ALICE, '+44999');
    assert.equal(grant.reservationId, null);
    assert.equal(
      cc.leg(ALICE, grant, 'call-1', () => assert.fail('never cut')),
      null,
    );
    cc.abandon(grant);
    await sched.advance(3600_000);
    assert.deepEqual(calls, []);
  });

  test('granted 25 s with no next slice: kept alive while ringing, cut exactly 25 s after the answer, the real duration committed', async () => {
    const { cc, calls, commits, links, sched } = world(granted(25));
    const grant = await cc.authorise(ALICE, NUMBER);
    assert.equal(grant.grantedSeconds, 25);
    let cutAt: number | null = null;
    let words = '';
    const leg = cc.leg(ALICE, grant, 'call-1', (w) => {
      cutAt = sched.now();
      words = w;
    })!;
    await sched.advance(0);
    assert.deepEqual(links, ['rsv-1=call-1'], 'the reservation names its call');
    await sched.advance(12_000); // rings 12 s: one keepalive
    assert.deepEqual(calls, ['keepalive']);
    const answeredAt = sched.now();
    leg.answered(answeredAt);
    await sched.advance(24_999);
    assert.equal(cutAt, null, 'not cut before the grant');
    assert.ok(calls.includes('extend'), 'the next slice was asked for before the grant ran out');
    await sched.advance(1);
    assert.equal(cutAt, answeredAt + 25_000, 'cut at the grant');
    assert.equal(words, CUT_OFF_WORDS);
    await leg.ended(sched.now() + 40);
    await leg.ended(sched.now() + 90); // once
    assert.equal(calls.filter((c) => c.startsWith('commit')).length, 1);
    assert.deepEqual(
      { ...commits[0], startedAt: 0 },
      {
        id: 'call-1',
        tenantId: 'acme',
        userId: 'alice',
        direction: 'outbound',
        destination: NUMBER,
        startedAt: 0,
        answeredAt,
        endedAt: answeredAt + 25_040,
      },
    );
  });

  test('a cut whose timer fired a millisecond early by the clock still commits the whole grant', async () => {
    const { cc, commits, sched } = world(granted(25));
    const grant = await cc.authorise(ALICE, NUMBER);
    const leg = cc.leg(ALICE, grant, 'call-early', () => {})!;
    const answeredAt = sched.now();
    leg.answered(answeredAt);
    await sched.advance(25_000);
    await leg.ended(answeredAt + 24_999); // the wall clock a millisecond behind the timer
    assert.equal(commits[0]!.endedAt, answeredAt + 25_000, 'the call lasted its 25 s grant');
  });

  test('renewed slices move the cut: a call granted 10 s then 20 s more is cut at 30 s', async () => {
    let n = 0;
    const { cc, sched } = world(granted(10), {
      extend: () =>
        ++n === 1
          ? { ok: true, grantedSeconds: 30, heldPoolMinutes: 0, heldCredits: 60_000 }
          : { ok: false, code: 'insufficient_funds', message: 'none', grantedSeconds: 30 },
    });
    const grant = await cc.authorise(ALICE, NUMBER);
    let cutAt: number | null = null;
    const leg = cc.leg(ALICE, grant, 'call-2', () => (cutAt = sched.now()))!;
    const at = sched.now();
    leg.answered(at);
    await sched.advance(29_999);
    assert.equal(cutAt, null);
    assert.equal(leg.grantedSeconds, 30);
    await sched.advance(1);
    assert.equal(cutAt, at + 30_000);
  });

  test('the last slice refused: the caller is warned 10 s before the cut (at once when less is left), not after it ended', async () => {
    const { cc, sched } = world(granted(60));
    const grant = await cc.authorise(ALICE, NUMBER);
    const warned: number[] = [];
    let cutAt: number | null = null;
    const leg = cc.leg(
      ALICE,
      grant,
      'call-w',
      () => (cutAt = sched.now()),
      () => warned.push(sched.now()),
    )!;
    const at = sched.now();
    leg.answered(at);
    await sched.advance(55_000); // the renewal (5 s before) was refused at 55 s: less than 10 s left
    assert.deepEqual(warned, [at + 55_000], 'warned as soon as the call is known to end');
    await sched.advance(5_000);
    assert.equal(cutAt, at + 60_000, 'the cut stays at the grant');

    // Granted 60 s with the refusal at 55 s and a 3 s warning: warned at 57 s. Ended at 56 s: never.
    const w2 = world(granted(60));
    const cc2 = new CallCredit({ ...w2.cc['d'], warnBeforeSeconds: 3 });
    const g2 = await cc2.authorise(ALICE, NUMBER);
    const warned2: number[] = [];
    const leg2 = cc2.leg(
      ALICE,
      g2,
      'call-w2',
      () => {},
      () => warned2.push(w2.sched.now()),
    )!;
    const at2 = w2.sched.now();
    leg2.answered(at2);
    await w2.sched.advance(57_000);
    assert.deepEqual(warned2, [at2 + 57_000]);
    const leg3 = cc2.leg(
      ALICE,
      g2,
      'call-w3',
      () => {},
      () => warned2.push(-1),
    )!;
    leg3.answered(w2.sched.now());
    await w2.sched.advance(56_000);
    await leg3.ended(w2.sched.now());
    await w2.sched.advance(10_000);
    assert.deepEqual(warned2, [at2 + 57_000], 'a call that ended first is not warned');
  });

  test('a reservation released under a ringing call (keepalive refused) cuts it at once', async () => {
    const { cc, sched } = world(granted(25), { keepaliveOk: () => false });
    let cut = false;
    cc.leg(ALICE, await cc.authorise(ALICE, NUMBER), 'call-3', () => (cut = true));
    await sched.advance(10_000);
    assert.equal(cut, true);
  });

  test('an unanswered call is released (free), an abandoned route too', async () => {
    const { cc, calls, sched } = world(granted(25));
    const leg = cc.leg(ALICE, await cc.authorise(ALICE, NUMBER), 'call-4', () => assert.fail('never cut'))!;
    await leg.ended();
    cc.abandon(await cc.authorise(ALICE, NUMBER));
    await sched.advance(60_000);
    assert.deepEqual(calls, ['release rsv-1', 'release rsv-1']);
  });

  test('a grant no trunk leg takes (the place refused after routing) is released, and only once', async () => {
    const { cc, calls, sched } = world(granted(25));
    await cc.authorise(ALICE, NUMBER);
    await sched.advance(9_999);
    assert.equal(calls.length, 0, 'it waits for its leg a while');
    await sched.advance(1);
    assert.deepEqual(calls, ['release rsv-1']);
    const taken = await cc.authorise(ALICE, NUMBER);
    const leg = cc.leg(ALICE, taken, 'call-5', () => {})!;
    await sched.advance(10_000);
    assert.ok(!calls.slice(1).includes('release rsv-1'), 'a grant its leg took is not released by the wait');
    await leg.ended();
    assert.equal(calls.filter((c) => c === 'release rsv-1').length, 2, 'the unanswered leg released it');
  });

  test('a phone is told why in a Q.850 Reason', () => {
    assert.equal(
      reasonHeader('insufficient_funds', `Not enough credit to call ${NUMBER}.`),
      `Q.850;cause=21;text="Not enough credit to call ${NUMBER}."`,
    );
    assert.equal(reasonHeader('no_licence', 'a "quoted" word'), 'Q.850;cause=50;text="a quoted word"');
    assert.equal(reasonHeader('not_found', 'x'), null);
  });
});
