/**
 * The inbound gateway's reading of a carrier's INVITE (src/telephony/trunk-inbound.ts): the number
 * called as carriers write it, the caller as they assert it (odd caller IDs included), the offer
 * narrowed to the carrier's first codec the trunk allows, and the walls: a carrier rings only its own
 * numbers, a tenant's own trunk only its tenant's, a number with no user or a disabled user nobody.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { parseMessage, type IncomingInvite, type SipRequest } from '@parley/sip';
import {
  calledDigits,
  callerOf,
  countriesOf,
  e164Candidates,
  narrowOffer,
  TrunkInbound,
} from '../../src/telephony/trunk-inbound.ts';
import { IP_TRUNK, StaticCarrierDirectory, type TrunkCarrier } from '../../src/telephony/carriers.ts';
import { StaticNumberDirectory } from '../../src/telephony/numbers.ts';
import type { PhoneMedia } from '../../src/sip/phone-media.ts';
import type { InboundCallControl } from '../../src/telephony/trunk-in-call.ts';

function invite(uri: string, headers: string[] = [], body = ''): SipRequest {
  const text = [
    `INVITE ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1',
    'From: <sip:+447700900123@10.0.0.1>;tag=a',
    'To: <sip:+442079460123@parley.example>',
    'Call-ID: c1',
    'CSeq: 1 INVITE',
    'Contact: <sip:10.0.0.1:5060>',
    'Max-Forwards: 70',
    ...headers,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
  return parseMessage(text) as SipRequest;
}

describe('the number called', () => {
  test('from the Request-URI, else the To; separators, parameters and tel: URIs', () => {
    assert.equal(calledDigits(invite('sip:+442079460123@parley.example')), '+442079460123');
    assert.equal(calledDigits(invite('sip:44-20-7946-0123;npdi@parley.example')), '442079460123');
    assert.equal(calledDigits(invite('tel:+44-20-7946-0123')), '+442079460123');
    assert.equal(calledDigits(invite('sip:parley.example')), '+442079460123', 'the To');
    assert.equal(calledDigits(invite('sip:bob@parley.example', [], '')), '+442079460123');
  });
  test('as E.164: with +, without, 00-prefixed, national in the dial-plan country', () => {
    assert.deepEqual(e164Candidates('+442079460123', ''), ['+442079460123']);
    assert.deepEqual(e164Candidates('442079460123', ''), ['+442079460123']);
    assert.deepEqual(e164Candidates('00442079460123', ''), ['+442079460123']);
    assert.deepEqual(e164Candidates('02079460123', 'GB'), ['+442079460123']);
    assert.deepEqual(e164Candidates('02079460123', ''), [], 'national without a country reads as nothing');
    assert.deepEqual(countriesOf(['+442079460123', '+33142685300', '+442079460124', 'junk']), ['GB', 'FR']);
  });
});

describe('the caller', () => {
  test('P-Asserted-Identity before From; E.164 with or without +; names bounded and plain', () => {
    const asserted = callerOf(
      invite('sip:x@y', ['P-Asserted-Identity: "Acme Ltd" <sip:+441632960001@carrier.example>']),
    );
    assert.deepEqual(asserted, { number: '+441632960001', displayName: 'Acme Ltd' });
    const plain = callerOf(invite('sip:x@y'));
    assert.deepEqual(plain, { number: '+447700900123', displayName: null });
    const text = invite('sip:x@y')
      .toString()
      .replace('From: <sip:+447700900123@', 'From: "Restricted" <sip:anonymous@');
    assert.deepEqual(callerOf(parseMessage(text) as SipRequest), { number: null, displayName: null });
    const long = invite('sip:x@y')
      .toString()
      .replace('From: <sip:+447700900123@', `From: "${'x'.repeat(200)}\\u0007" <sip:447911123456@`);
    const c = callerOf(parseMessage(long) as SipRequest);
    assert.equal(c.number, '+447911123456', 'E.164 without + gains it');
    assert.ok((c.displayName ?? '').length <= 64);
  });
  test('digits that are no valid E.164 are kept as sent (a short code, a national caller ID)', () => {
    const text = invite('sip:x@y').toString().replace('sip:+447700900123@', 'sip:12345@');
    assert.equal(callerOf(parseMessage(text) as SipRequest).number, '12345');
  });
});

const OFFER = [
  'v=0',
  'o=c 1 1 IN IP4 10.0.0.1',
  's=-',
  'c=IN IP4 10.0.0.1',
  't=0 0',
  'm=audio 4000 RTP/AVP 8 0 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  '',
].join('\r\n');

describe('the offer', () => {
  test('narrowed to the first codec offered that the trunk allows, telephone-event kept', () => {
    assert.match(narrowOffer(OFFER, ['PCMU', 'PCMA'])!, /m=audio 4000 RTP\/AVP 8 101/);
    assert.match(narrowOffer(OFFER, ['PCMU'])!, /m=audio 4000 RTP\/AVP 0 101/);
    assert.doesNotMatch(narrowOffer(OFFER, ['PCMU'])!, /PCMA/);
    assert.equal(narrowOffer(OFFER, ['G722']), null, 'nothing shared: 488');
  });
});

describe('the walls', () => {
  const trunk = (id: string, ip: string, tenantId: string | null): TrunkCarrier => ({
    id,
    name: id,
    tenantId,
    addresses: [{ host: ip, port: 5060 }],
    transport: 'udp',
    allow: [ip],
    codecs: ['PCMA', 'PCMU'],
    callerIdFormat: 'e164',
    channelLimit: null,
    enabled: true,
    ...IP_TRUNK,
  });
  const carriers = new StaticCarrierDirectory([
    trunk('car_op', '10.0.0.1', null),
    trunk('car_t1', '10.0.0.2', 't1'),
  ]);
  const numbers = new StaticNumberDirectory([
    { number: '+442079460001', carrierId: 'car_op', tenantId: 't2', userId: 'u2' },
    { number: '+442079460002', carrierId: 'car_t1', tenantId: 't2', userId: 'u2' }, // misassigned
    { number: '+442079460003', carrierId: 'car_op', tenantId: 't2', userId: null },
    { number: '+442079460004', carrierId: 'car_op', tenantId: 't2', userId: 'off' },
  ]);
  const gateway = new TrunkInbound({
    carriers,
    numbers,
    userEnabled: async (tenantId, userId) => tenantId === 't2' && userId === 'u2',
    dialPlanCountry: async () => 'GB',
    numberCountries: async (carrierId) => (carrierId === 'car_op' ? ['GB'] : []),
    control: {} as InboundCallControl,
    // Reached only past every wall: refuses the offer, so the answer is 488.
    media: {
      answerRtp: async () => {
        throw new Error('no media in this test');
      },
    } as unknown as PhoneMedia,
    records: { carrierLeg: async () => {} },
    retryAfterS: 5,
    log: pino({ level: 'silent' }),
  });
  async function answer(from: string, number: string): Promise<number> {
    let status = 0;
    const inv = {
      tx: { peer: { address: from, port: 5060, protocol: 'udp' } },
      request: invite(`sip:${number}@parley.example`, ['Content-Type: application/sdp'], OFFER),
      state: 'pending',
      reject: (s: number) => void (status = s),
    } as unknown as IncomingInvite;
    await gateway.invite(inv);
    return status;
  }
  test('a carrier rings its own numbers given to an enabled user, and nothing else', async () => {
    assert.equal(await answer('10.0.0.1', '+442079460001'), 488, 'past the walls');
    assert.equal(await answer('10.0.0.1', '02079460001'), 488, 'national, in the country of its numbers');
    assert.equal(await answer('10.0.0.1', '+442079460002'), 404, 'another carrier’s number');
    assert.equal(await answer('10.0.0.2', '+442079460002'), 404, 'a tenant trunk, another tenant’s number');
    assert.equal(await answer('10.0.0.1', '+442079460003'), 404, 'a number with no user');
    assert.equal(await answer('10.0.0.1', '+442079460004'), 404, 'a disabled user');
    assert.equal(await answer('10.0.0.1', '+442079469999'), 404, 'not in the inventory');
    assert.equal(await answer('10.0.0.9', '+442079460001'), 404, 'no trunk holds the source');
  });
});
