/**
 * Unit tests of least-cost routing (least-cost.ts) and failover across carriers (trunk-outbound.ts),
 * without sockets: candidates ordered by the cost of the first minute, then preference, then name; the
 * longest prefix of each carrier's cost deck; a carrier whose deck does not reach the number dropped
 * and one with no deck kept last; and a call moved to the next carrier on 503 or silence but not on 486,
 * its channel moving with it. The SIPp version is tests/trunks/least-cost.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ParleyError } from '@parley/protocol';
import { SipRequestFailed } from '@parley/sip';
import { DeckVersion, RateDeck, parseRateDeckCsv } from '../../src/billing/rate-deck.ts';
import { IP_TRUNK, StaticCarrierDirectory, type TrunkCarrier } from '../../src/telephony/carriers.ts';
import { StaticNumberDirectory } from '../../src/telephony/numbers.ts';
import { rankCarriers, type RouteDecision } from '../../src/telephony/least-cost.ts';
import { TrunkOutbound } from '../../src/telephony/trunk-outbound.ts';
import type { NumberRoute } from '../../src/calls/call-control.ts';
import type { CallTrunkLeg } from '../../src/calls/call-records.ts';

const HEADER = 'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment\n';

function trunk(id: string, o: Partial<TrunkCarrier> = {}): TrunkCarrier {
  return {
    id,
    name: id,
    tenantId: null,
    addresses: [{ host: '127.0.0.2', port: 5060 }],
    transport: 'udp',
    allow: [],
    codecs: ['PCMA', 'PCMU'],
    callerIdFormat: 'e164',
    channelLimit: null,
    enabled: true,
    ...IP_TRUNK,
    ...o,
  };
}

/** A cost deck of `carrierId` with `rows` (CSV lines without the header), in force since 0. */
function deck(carrierId: string, rows: string[], version = 1): RateDeck {
  const d = new RateDeck(`deck-${carrierId}`, `${carrierId} costs`, 'cost', carrierId);
  d.addVersion(new DeckVersion(d.id, version, 0, parseRateDeckCsv(HEADER + rows.join('\n'))));
  return d;
}

const decksOf = (...ds: RateDeck[]) => {
  const m = new Map<string, RateDeck[]>();
  for (const d of ds) m.set(d.carrierId!, [...(m.get(d.carrierId!) ?? []), d]);
  return m;
};

const ids = (r: { carriers: TrunkCarrier[] }) => r.carriers.map((c) => c.id);

describe('least-cost order', () => {
  test('cheapest first by the cost of the first minute: a connection fee counts', () => {
    const decks = decksOf(
      deck('dear', ['44,UK,domestic,0.0200,0,60,60']),
      deck('cheap', ['44,UK,domestic,0.0100,0,60,60']),
      // Cheaper per minute, but its 0.05 connection fee makes the first minute the dearest.
      deck('fee', ['44,UK,domestic,0.0050,0.05,60,60']),
    );
    const r = rankCarriers([trunk('dear'), trunk('fee'), trunk('cheap')], '+442079460999', decks, 1000);
    assert.deepEqual(ids(r), ['cheap', 'dear', 'fee']);
    assert.deepEqual(
      r.decision.candidates.map((c) => [c.carrierId, c.costPerMinute, c.connectionFee, c.firstMinute]),
      [
        ['cheap', '0.01', '0', '0.01'],
        ['dear', '0.02', '0', '0.02'],
        ['fee', '0.005', '0.05', '0.055'],
      ],
    );
    assert.deepEqual(r.decision.candidates[0]!.deck, { id: 'deck-cheap', version: 1 });
    assert.equal(r.decision.e164, '+442079460999');
    assert.equal(r.decision.chosen, null, 'nothing is chosen before a call takes a channel');
  });

  test('the same cost: the lower preference first, then the name', () => {
    const row = ['44,UK,domestic,0.0100,0,60,60'];
    const decks = decksOf(deck('b', row), deck('a', row), deck('c', row));
    const r = rankCarriers(
      [trunk('c', { preference: 5 }), trunk('b', { preference: 1 }), trunk('a', { preference: 5 })],
      '+442079460999',
      decks,
      1000,
    );
    assert.deepEqual(ids(r), ['b', 'a', 'c']);
    assert.deepEqual(
      r.decision.candidates.map((c) => c.preference),
      [1, 5, 5],
    );
    // A lower preference never beats a lower cost.
    const cheaper = decksOf(deck('a', ['44,UK,domestic,0.0090,0,60,60']), deck('b', row));
    assert.deepEqual(
      ids(rankCarriers([trunk('b', { preference: -10 }), trunk('a')], '+442079460999', cheaper, 1000)),
      ['a', 'b'],
    );
  });

  test('each carrier’s rate is its longest matching prefix', () => {
    const decks = decksOf(
      // 44 is cheap on x, but x's London prefix 4420 is dear: the longest prefix is its price.
      deck('x', ['44,UK,domestic,0.0010,0,60,60', '4420,London,domestic,0.0300,0,60,60']),
      deck('y', ['44,UK,domestic,0.0200,0,60,60', '447,UK mobile,mobile,0.0500,0,60,60']),
    );
    const london = rankCarriers([trunk('x'), trunk('y')], '+442079460999', decks, 1000);
    assert.deepEqual(ids(london), ['y', 'x']);
    assert.deepEqual(
      london.decision.candidates.map((c) => [c.carrierId, c.prefix]),
      [
        ['y', '44'],
        ['x', '4420'],
      ],
    );
    const mobile = rankCarriers([trunk('x'), trunk('y')], '+447700900123', decks, 1000);
    assert.deepEqual(ids(mobile), ['x', 'y']);
    assert.deepEqual(
      mobile.decision.candidates.map((c) => c.prefix),
      ['44', '447'],
    );
  });

  test('increments: 30/6 with a fee against 60/60 is priced as its first minute', () => {
    const decks = decksOf(
      deck('per-minute', ['44,UK,domestic,0.0120,0,60,60']),
      // 0.011 a minute billed 30 then 6 s, plus 0.002: a first minute of 0.013.
      deck('fine', ['44,UK,domestic,0.0110,0.002,30,6']),
    );
    const r = rankCarriers([trunk('fine'), trunk('per-minute')], '+442079460999', decks, 1000);
    assert.deepEqual(ids(r), ['per-minute', 'fine']);
    assert.equal(r.decision.candidates[1]!.firstMinute, '0.013');
  });

  test('a deck that does not reach the number drops its carrier; a carrier with no deck comes last', () => {
    const decks = decksOf(
      deck('us-only', ['1,USA,domestic,0.0010,0,60,60']),
      deck('priced', ['44,UK,domestic,0.0500,0,60,60']),
    );
    const r = rankCarriers(
      [trunk('unpriced-b', { preference: 2 }), trunk('us-only'), trunk('unpriced-a'), trunk('priced')],
      '+442079460999',
      decks,
      1000,
    );
    assert.deepEqual(ids(r), ['priced', 'unpriced-a', 'unpriced-b']);
    assert.deepEqual(r.decision.skipped, [{ carrierId: 'us-only', name: 'us-only', why: 'no_rate' }]);
    const unpriced = r.decision.candidates.find((c) => c.carrierId === 'unpriced-a')!;
    assert.deepEqual([unpriced.prefix, unpriced.costPerMinute, unpriced.deck], [null, null, null]);
  });

  test('the version in force at the call decides; a deck with none in force yet prices nothing', () => {
    const d = deck('x', ['44,UK,domestic,0.0100,0,60,60']);
    d.addVersion(new DeckVersion(d.id, 2, 5000, parseRateDeckCsv(HEADER + '44,UK,domestic,0.0300,0,60,60')));
    const y = deck('y', ['44,UK,domestic,0.0200,0,60,60']);
    assert.deepEqual(ids(rankCarriers([trunk('x'), trunk('y')], '+442079460999', decksOf(d, y), 1000)), [
      'x',
      'y',
    ]);
    const later = rankCarriers([trunk('x'), trunk('y')], '+442079460999', decksOf(d, y), 6000);
    assert.deepEqual(ids(later), ['y', 'x']);
    assert.equal(later.decision.candidates[1]!.deck!.version, 2);
    const future = new RateDeck('deck-z', 'z', 'cost', 'z');
    future.addVersion(
      new DeckVersion('deck-z', 1, 99_000, parseRateDeckCsv(HEADER + '1,USA,domestic,1,0,60,60')),
    );
    const z = rankCarriers([trunk('z'), trunk('y')], '+442079460999', decksOf(future, y), 1000);
    assert.deepEqual(ids(z), ['y', 'z'], 'z has no prices yet: unpriced, last, not refused');
  });

  test('a tenant’s own carriers stay before the operator’s', () => {
    const decks = decksOf(
      deck('op', ['44,UK,domestic,0.0010,0,60,60']),
      deck('own', ['44,UK,domestic,0.0500,0,60,60']),
    );
    const r = rankCarriers([trunk('own', { tenantId: 'acme' }), trunk('op')], '+442079460999', decks, 1000);
    assert.deepEqual(ids(r), ['own', 'op']);
  });
});

describe('routing and failover across carriers (TrunkOutbound)', () => {
  const A = trunk('a', { addresses: [{ host: '127.0.0.2', port: 5060 }], channelLimit: 1 });
  const B = trunk('b', { addresses: [{ host: '127.0.0.3', port: 5060 }] });
  const C = trunk('c', { addresses: [{ host: '127.0.0.4', port: 5060 }] });
  const costs = {
    costDecksByCarrier: async () =>
      decksOf(
        deck('a', ['44,UK,domestic,0.0100,0,60,60']),
        deck('b', ['44,UK,domestic,0.0200,0,60,60']),
        deck('c', ['1,USA,domestic,0.0010,0,60,60']),
      ),
  };

  /**
   * A call whose carriers answer as `answers` says (by address): 'silent' sends nothing, a number is
   * a final refusal after a 100 Trying. Resolves to the INVITEs' destinations, how the call ended and
   * what the record was told.
   */
  async function callOut(answers: Record<string, 'silent' | number>) {
    const sent: string[] = [];
    const records: CallTrunkLeg[] = [];
    let ended: (v: { reason: string }) => void;
    const end = new Promise<{ reason: string }>((r) => (ended = r));
    const s = new TrunkOutbound({
      ua: {
        invite: (o) => {
          const to = o.dest.address;
          sent.push(to);
          const listeners: Array<(res: unknown) => void> = [];
          const a = answers[to] ?? 'silent';
          const answered =
            a === 'silent'
              ? new Promise<never>(() => {})
              : new Promise<never>((_, reject) =>
                  setTimeout(() => {
                    for (const l of listeners) l({ status: 100, body: Buffer.alloc(0) });
                    reject(new SipRequestFailed(a, { reason: `refused ${a}` } as never));
                  }, 5),
                );
          return {
            request: { uri: { toString: () => o.target }, body: Buffer.alloc(0) },
            answered,
            on: (_e: string, l: (res: unknown) => void) => listeners.push(l),
            once: (_e: string, l: (res: unknown) => void) => listeners.push(l),
            cancel: () => true,
          } as never;
        },
      },
      control: {
        frame: () => ({}),
        closed: () => {},
        endCall: () => false,
        attachDevice: () => {},
        failCall: (_s, _id, reason) => (ended({ reason }), true),
      },
      carriers: new StaticCarrierDirectory([B, C, A]),
      numbers: new StaticNumberDirectory([]),
      dialPlanCountry: async () => 'GB',
      userByExtension: async () => null,
      media: {
        offerRtp: async () =>
          ({ sdp: 'v=0\r\n', on: () => {}, once: () => {}, close: async () => {} }) as never,
        answerRtp: () => Promise.reject(new Error('no media')),
        offerWebRtc: () => Promise.reject(new Error('no media')),
        answerWebRtc: () => Promise.reject(new Error('no media')),
        bridge: () => {},
      },
      records: (_id, t) => records.push(JSON.parse(JSON.stringify(t)) as CallTrunkLeg),
      localHost: '127.0.0.1',
      sessionExpires: 1800,
      failoverTimeoutS: 0.05,
      phoneCaller: () => undefined,
      withholdsCallerId: async () => false,
      withholdPrefixes: [],
      costs,
      log: pino({ level: 'silent' }),
    });
    const caller = { tenantId: 'acme', userId: 'alice' };
    const route = (await s.route(caller, '+442079460999')) as NumberRoute;
    const leg = s.device(caller, route)!;
    const inUse = () => ({ a: s.inUse('a'), b: s.inUse('b') });
    const atStart = inUse();
    leg.push({
      t: 'call.incoming',
      call: { id: 'call1' },
      offer: { type: 'offer', sdp: 'v=0\r\n' },
      candidates: [],
    } as never);
    const result = await end;
    const decision = records.filter((r) => r.routeDecision).at(-1)?.routeDecision as RouteDecision;
    const carrier = records.filter((r) => r.carrier).at(-1)?.carrier;
    return { route, sent, end: result, decision, carrier, atStart, atEnd: inUse(), legs: s.size };
  }

  test('route(): carrierIds in least-cost order with the decision; the one with no rate skipped', async () => {
    const r = await callOut({ '127.0.0.2': 404 });
    assert.deepEqual(r.route.carrierIds, ['a', 'b']);
    assert.deepEqual(r.route.decision!.skipped, [{ carrierId: 'c', name: 'c', why: 'no_rate' }]);
    assert.deepEqual(r.atStart, { a: 1, b: 0 }, 'the cheaper carrier’s channel is taken');
  });

  test('a 503 from the cheaper carrier: the call fails over to the next, its channel with it', async () => {
    const r = await callOut({ '127.0.0.2': 503, '127.0.0.3': 486 });
    assert.deepEqual(r.sent, ['127.0.0.2', '127.0.0.3']);
    assert.equal(r.end.reason, 'busy', 'the second carrier’s answer is the call’s');
    assert.equal(r.carrier, 'b', 'the record’s carrier is the one that carried the call');
    assert.equal(r.decision.chosen, 'b');
    assert.deepEqual(
      r.decision.skipped.map((s) => [s.carrierId, s.why, s.detail]),
      [
        ['c', 'no_rate', undefined],
        ['a', 'failed', '503 refused 503'],
      ],
    );
    assert.deepEqual(r.atEnd, { a: 0, b: 0 }, 'every channel given back');
    assert.equal(r.legs, 0);
  });

  test('every carrier answers 503: the call ends failed on the last, the record saying both failed', async () => {
    const r = await callOut({ '127.0.0.2': 503, '127.0.0.3': 503 });
    assert.deepEqual(r.sent, ['127.0.0.2', '127.0.0.3']);
    assert.equal(r.end.reason, 'failed');
    assert.equal(r.carrier, 'b');
    assert.deepEqual(
      r.decision.skipped.filter((s) => s.why === 'failed').map((s) => s.carrierId),
      ['a', 'b'],
    );
    assert.deepEqual(r.atEnd, { a: 0, b: 0 });
  });

  test('silence from the cheaper carrier within the failover timeout also fails over', async () => {
    const r = await callOut({ '127.0.0.3': 480 });
    assert.deepEqual(r.sent, ['127.0.0.2', '127.0.0.3']);
    assert.equal(r.end.reason, 'unavailable');
    assert.match(r.decision.skipped.at(-1)!.detail ?? '', /^no answer within/);
  });

  for (const status of [486, 404, 603, 480, 484]) {
    test(`a ${status} (an answer about the callee) ends the call on the first carrier`, async () => {
      const r = await callOut({ '127.0.0.2': status });
      assert.deepEqual(r.sent, ['127.0.0.2'], 'the other carrier gets no INVITE');
      assert.equal(r.carrier, 'a');
      assert.equal(r.decision.chosen, 'a');
      assert.deepEqual(r.atEnd, { a: 0, b: 0 });
    });
  }

  test('no carrier has a rate for the number: no_route', async () => {
    const s = new TrunkOutbound({
      carriers: new StaticCarrierDirectory([C]),
      costs,
      dialPlanCountry: async () => 'GB',
      numbers: new StaticNumberDirectory([]),
      withholdsCallerId: async () => false,
      withholdPrefixes: [],
      log: pino({ level: 'silent' }),
    } as never);
    await assert.rejects(
      s.route({ tenantId: 'acme', userId: 'alice' }, '+442079460999'),
      (e: unknown) => e instanceof ParleyError && e.code === 'no_route',
    );
  });
});
