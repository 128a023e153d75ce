/**
 * Unit tests of calls out through carriers (trunk-outbound.ts, trunk-sdp.ts), without sockets: the
 * dial plan's reading of what was typed, the walls (a tenant's own carrier serves only it, a user's
 * caller ID is their own tenant's number), the channel limit, the caller ID in each carrier format,
 * and the offer in the carrier's codec order. The calls themselves run against SIPp in
 * tests/trunks/outbound*.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ParleyError } from '@parley/protocol';
import { SipRequestFailed } from '@parley/sip';
import { IP_TRUNK, StaticCarrierDirectory, type TrunkCarrier } from '../../src/telephony/carriers.ts';
import { StaticNumberDirectory } from '../../src/telephony/numbers.ts';
import { formatForCarrier, TrunkOutbound } from '../../src/telephony/trunk-outbound.ts';
import { firstCodec, orderCodecs, plainRtp } from '../../src/telephony/trunk-sdp.ts';
import { TrunkStatusBoard } from '../../src/telephony/trunk-status.ts';
import type { NumberRoute } from '../../src/calls/call-control.ts';

function trunk(id: string, tenantId: string | null, o: Partial<TrunkCarrier> = {}): TrunkCarrier {
  return {
    id,
    name: id,
    tenantId,
    addresses: [{ host: '127.0.0.2', port: 5060 }],
    transport: 'udp',
    allow: ['127.0.0.2'],
    codecs: ['PCMA', 'PCMU'],
    callerIdFormat: 'e164',
    channelLimit: null,
    enabled: true,
    ...IP_TRUNK,
    ...o,
  };
}

const PLAN_COUNTRY: Record<string, string> = { acme: 'GB', initech: 'US' };

function service(carriers: TrunkCarrier[], status?: TrunkStatusBoard) {
  return new TrunkOutbound({
    ua: {
      invite: () => {
        throw new Error('no INVITE in these tests');
      },
    },
    control: {
      frame: () => ({}),
      closed: () => {},
      endCall: () => false,
      attachDevice: () => {},
      failCall: () => false,
    },
    carriers: new StaticCarrierDirectory(carriers),
    numbers: new StaticNumberDirectory([
      { number: '+442079460018', carrierId: 'op', tenantId: 'acme', userId: 'alice' },
      { number: '+33142685300', carrierId: 'op', tenantId: 'globex', userId: 'gina' },
    ]),
    withholdsCallerId: async (_tenantId, userId) => userId === 'bob',
    withholdPrefixes: ['*67', '141'],
    dialPlanCountry: async (tenantId) => PLAN_COUNTRY[tenantId] ?? '',
    userByExtension: async (tenantId, ext) =>
      tenantId === 'acme' && ext === '201' ? { userId: 'bob' } : null,
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
    status,
    phoneCaller: () => undefined,
    log: pino({ level: 'silent' }),
  });
}

const code = (c: string) => (e: unknown) => e instanceof ParleyError && e.code === c;

describe('routing a number out', () => {
  test('a national number in the tenant’s dial plan becomes E.164, with the caller’s own number and the carriers to try', async () => {
    const s = service([trunk('acme-own', 'acme'), trunk('op', null), trunk('globex-own', 'globex')]);
    const r = (await s.route({ tenantId: 'acme', userId: 'alice' }, '020 7946 0999')) as NumberRoute;
    assert.deepEqual(r, {
      kind: 'number',
      e164: '+442079460999',
      typed: '020 7946 0999',
      callerNumber: '+442079460018',
      withheld: false,
      carrierIds: ['acme-own', 'op'],
    });
  });

  test('withheld: a *67 or 141 prefix on one call, or the user’s own setting; the prefix is not dialled', async () => {
    const s = service([trunk('op', null)]);
    const starred = (await s.route(
      { tenantId: 'acme', userId: 'alice' },
      '*67 020 7946 0999',
    )) as NumberRoute;
    assert.equal(starred.e164, '+442079460999');
    assert.equal(starred.withheld, true);
    const uk = (await s.route({ tenantId: 'acme', userId: 'alice' }, '1410207 946 0999')) as NumberRoute;
    assert.deepEqual([uk.e164, uk.withheld], ['+442079460999', true]);
    const plain = (await s.route({ tenantId: 'acme', userId: 'alice' }, '020 7946 0999')) as NumberRoute;
    assert.equal(plain.withheld, false);
    const bob = (await s.route({ tenantId: 'acme', userId: 'bob' }, '020 7946 0999')) as NumberRoute;
    assert.equal(bob.withheld, true, 'Bob withholds his number on every call');
    const us = service([trunk('op', null)]);
    const sf = (await us.route({ tenantId: 'initech', userId: 'ian' }, '14155550100')) as NumberRoute;
    assert.deepEqual(
      [sf.e164, sf.withheld],
      ['+14155550100', false],
      'digits that only start like 141 are dialled as typed',
    );
  });

  test('walls: another tenant’s own carrier is never tried, and a user without a number shows none', async () => {
    const s = service([trunk('acme-own', 'acme')]);
    await assert.rejects(s.route({ tenantId: 'globex', userId: 'gina' }, '+442079460999'), code('no_route'));
    const both = service([trunk('acme-own', 'acme'), trunk('op', null)]);
    const r = (await both.route({ tenantId: 'globex', userId: 'hank' }, '+442079460999')) as NumberRoute;
    assert.deepEqual(r.carrierIds, ['op']);
    assert.equal(r.callerNumber, null, 'Hank has no number; Alice’s (another tenant’s) is not his');
  });

  test('an extension is a user of the tenant; an unknown one not_found; a disabled carrier no_route; garbage invalid_number', async () => {
    const s = service([trunk('op', null, { enabled: false })]);
    assert.deepEqual(await s.route({ tenantId: 'acme', userId: 'alice' }, '201'), {
      kind: 'user',
      userId: 'bob',
    });
    await assert.rejects(s.route({ tenantId: 'globex', userId: 'gina' }, '201'), code('not_found'));
    await assert.rejects(s.route({ tenantId: 'acme', userId: 'alice' }, '+442079460999'), code('no_route'));
    await assert.rejects(s.route({ tenantId: 'acme', userId: 'alice' }, 'call me'), code('invalid_number'));
    // No dial plan country: a national number cannot be read.
    await assert.rejects(
      s.route({ tenantId: 'globex', userId: 'gina' }, '020 7946 0999'),
      code('invalid_number'),
    );
  });

  test('the channel limit: a full carrier is passed over for the next; all full, no trunk leg', async () => {
    const s = service([trunk('small', null, { channelLimit: 1 }), trunk('big', null, { channelLimit: 2 })]);
    const caller = { tenantId: 'acme', userId: 'alice' };
    const route = (await s.route(caller, '+442079460999')) as NumberRoute;
    const legs = [s.device(caller, route), s.device(caller, route), s.device(caller, route)];
    assert.ok(legs.every((l) => l !== null));
    assert.match(legs[0]!.deviceKey!, /^trunk\/small\//);
    assert.match(legs[1]!.deviceKey!, /^trunk\/big\//);
    assert.equal(s.inUse('small'), 1);
    assert.equal(s.inUse('big'), 2);
    assert.equal(s.device(caller, route), null, 'every channel is in use');
  });
});

describe('carrier health', () => {
  test('a carrier down at every address is passed over; one address still up (or unknown) keeps it', async () => {
    const two = [
      { host: '127.0.0.2', port: 5060 },
      { host: '127.0.0.3', port: 5060 },
    ];
    const board = new TrunkStatusBoard();
    const s = service([trunk('first', null, { addresses: two }), trunk('second', null)], board);
    const caller = { tenantId: 'acme', userId: 'alice' };
    const route = (await s.route(caller, '+442079460999')) as NumberRoute;
    board.setAddress('first', two[0]!, 'down', '408: no answer to OPTIONS');
    assert.match(s.device(caller, route)!.deviceKey!, /^trunk\/first\//, 'its secondary is not known down');
    board.setAddress('first', two[1]!, 'down', '408: no answer to OPTIONS');
    assert.match(
      s.device(caller, route)!.deviceKey!,
      /^trunk\/second\//,
      'every address of the first is down',
    );
    board.setAddress('second', { host: '127.0.0.2', port: 5060 }, 'down', 'unreachable');
    assert.equal(s.device(caller, route), null, 'every carrier down: none is offered the call');
    board.clearAddresses('first');
    assert.match(s.device(caller, route)!.deviceKey!, /^trunk\/first\//, 'its check stopped: tried again');
  });
});

describe('what the carrier reads', () => {
  test('caller ID in each format', () => {
    assert.equal(formatForCarrier('+442079460018', 'e164'), '+442079460018');
    assert.equal(formatForCarrier('+442079460018', 'e164_no_plus'), '442079460018');
    assert.equal(formatForCarrier('+442079460018', 'national'), '02079460018');
    assert.equal(formatForCarrier('+12025550143', 'national'), '2025550143');
  });

  const offer = [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=audio 4000 RTP/AVP 0 8 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    '',
  ].join('\r\n');

  test('the offer in the carrier’s codec order, telephone-event kept, unlisted codecs dropped', () => {
    const pcmaFirst = orderCodecs(offer, ['PCMA', 'PCMU']);
    assert.match(pcmaFirst, /m=audio 4000 RTP\/AVP 8 0 101\r\n/);
    assert.equal(firstCodec(pcmaFirst), 'PCMA');
    const pcmaOnly = orderCodecs(offer, ['PCMA']);
    assert.match(pcmaOnly, /m=audio 4000 RTP\/AVP 8 101\r\n/);
    assert.doesNotMatch(pcmaOnly, /rtpmap:0 /);
    assert.match(pcmaOnly, /a=fmtp:101 0-16/);
    assert.equal(
      orderCodecs(offer, ['G722']),
      offer,
      'nothing in common: the offer is left for the carrier to refuse',
    );
    assert.equal(firstCodec(offer), 'PCMU');
  });

  test('a browser-made offer loses its WebRTC lines and its 48 kHz telephone-event', () => {
    const webrtcish = [
      'v=0',
      'o=- 1 2 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      'a=extmap-allow-mixed',
      'a=msid-semantic: WMS x',
      'm=audio 28578 RTP/AVP 0 8 13 110 126',
      'c=IN IP4 127.0.0.1',
      'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
      'a=msid:x y',
      'a=ssrc:1 cname:z',
      'a=mid:0',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:13 CN/8000',
      'a=rtpmap:110 telephone-event/48000',
      'a=rtpmap:126 telephone-event/8000',
      'a=sendrecv',
      'a=rtcp:28579',
      '',
    ].join('\r\n');
    assert.equal(
      plainRtp(webrtcish),
      [
        'v=0',
        'o=- 1 2 IN IP4 127.0.0.1',
        's=-',
        't=0 0',
        'm=audio 28578 RTP/AVP 0 8 13 126',
        'c=IN IP4 127.0.0.1',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:13 CN/8000',
        'a=rtpmap:126 telephone-event/8000',
        'a=sendrecv',
        'a=rtcp:28579',
        '',
      ].join('\r\n'),
    );
  });
});

describe('failover between a carrier’s addresses', () => {
  const A = { host: '127.0.0.2', port: 5060 };
  const B = { host: '127.0.0.3', port: 5060 };
  const C = { host: '127.0.0.4', port: 5060 };

  /**
   * A call to a carrier at A, B, C whose addresses answer as `answers` says (by host): 'silent' sends
   * nothing, a number is a final refusal after a 100 Trying. Resolves to the INVITEs' destinations,
   * the cancelled ones and how the call ended.
   */
  async function callOut(answers: Record<string, 'silent' | number>, down: Array<typeof A> = []) {
    const sent: string[] = [];
    const cancelled: string[] = [];
    let ended: (v: { reason: string; words?: string }) => void;
    const end = new Promise<{ reason: string; words?: string }>((r) => (ended = r));
    const board = new TrunkStatusBoard();
    for (const a of down) board.setAddress('op', a, 'down', '408: no answer to OPTIONS');
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
            cancel: () => (cancelled.push(to), true),
          } as never;
        },
      },
      control: {
        frame: () => ({}),
        closed: () => {},
        endCall: () => false,
        attachDevice: () => {},
        failCall: (_s, _id, reason, words) => (ended({ reason, words }), true),
      },
      carriers: new StaticCarrierDirectory([trunk('op', null, { addresses: [A, B, C] })]),
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
      records: () => {},
      localHost: '127.0.0.1',
      sessionExpires: 1800,
      status: board,
      failoverTimeoutS: 0.05,
      phoneCaller: () => undefined,
      withholdsCallerId: async () => false,
      withholdPrefixes: [],
      log: pino({ level: 'silent' }),
    });
    const caller = { tenantId: 'acme', userId: 'alice' };
    const route = (await s.route(caller, '+442079460999')) as NumberRoute;
    const leg = s.device(caller, route)!;
    leg.push({
      t: 'call.incoming',
      call: { id: 'call1' },
      offer: { type: 'offer', sdp: 'v=0\r\n' },
      candidates: [],
    } as never);
    return { sent, cancelled, end: await end, legs: () => s.size };
  }

  test('an address that sends nothing within the failover timeout, then a 503: the call reaches the last address, whose 486 ends it', async () => {
    const r = await callOut({ '127.0.0.3': 503, '127.0.0.4': 486 });
    assert.deepEqual(r.sent, ['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    assert.deepEqual(r.cancelled, ['127.0.0.2'], 'the silent attempt is cancelled');
    assert.equal(r.end.reason, 'busy', 'the last address’s answer is the call’s');
    assert.equal(r.legs(), 0);
  });

  test('a refusal of the number (404) is not failed over', async () => {
    const r = await callOut({ '127.0.0.2': 404 });
    assert.deepEqual(r.sent, ['127.0.0.2']);
    assert.equal(r.end.reason, 'failed');
  });

  test('an address the health check marked down is skipped', async () => {
    const r = await callOut({ '127.0.0.3': 503, '127.0.0.4': 480 }, [A]);
    assert.deepEqual(r.sent, ['127.0.0.3', '127.0.0.4']);
    assert.equal(r.end.reason, 'unavailable');
  });
});
