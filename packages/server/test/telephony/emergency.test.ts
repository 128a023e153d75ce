/**
 * Unit tests of emergency calls without sockets: the table of emergency numbers per country (and what
 * typed text counts as one), billing's view of them (never charged), the carrier order (the emergency
 * carrier first), the PIDF-LO document and the multipart body that carries it, and the route an
 * emergency call gets from TrunkOutbound (never an extension, never withheld, the callback number, the
 * location) with the tenant admins alerted by event and mail. The call itself runs against SIPp in
 * tests/trunks/emergency.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ParleyError } from '@parley/protocol';
import { IP_TRUNK, StaticCarrierDirectory, type TrunkCarrier } from '../../src/telephony/carriers.ts';
import { StaticNumberDirectory } from '../../src/telephony/numbers.ts';
import {
  ALL_EMERGENCY_NUMBERS,
  emergencyNumberOf,
  emergencyNumbers,
} from '../../src/telephony/emergency-numbers.ts';
import { isEmergencyShortCode } from '../../src/billing/destination-class.ts';
import {
  addressText,
  EmergencyCalls,
  emergencyCarrierOrder,
  emergencyInviteParts,
} from '../../src/telephony/emergency.ts';
import { locationBody, pidfLo, xmlEscape } from '../../src/telephony/pidf-lo.ts';
import type { CivicAddress } from '../../src/telephony/emergency-store.ts';
import { TrunkOutbound } from '../../src/telephony/trunk-outbound.ts';
import type { MailMessage } from '../../src/mail/mailer.ts';

const log = pino({ level: 'silent' });

function trunk(id: string, o: Partial<TrunkCarrier> = {}): TrunkCarrier {
  return {
    id,
    name: id,
    tenantId: null,
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

const OFFICE: CivicAddress = {
  country: 'GB',
  region: 'England',
  city: 'London',
  street: 'Example Street',
  houseNumber: '1',
  postalCode: 'SW1A 1AA',
  floor: '3',
  name: 'Contoso & Partners',
};

describe('emergency numbers per country', () => {
  test('112 across the EU and GB, 999 in GB, 911 in the US and Canada, 000 in Australia, 111 in New Zealand', () => {
    for (const c of ['FR', 'DE', 'ES', 'IT', 'NL', 'PL', 'SE', 'IE', 'GB', 'CH', 'NO'])
      assert.ok(emergencyNumbers(c).includes('112'), `112 in ${c}`);
    assert.deepEqual([...emergencyNumbers('GB')].sort(), ['112', '999']);
    assert.ok(emergencyNumbers('IE').includes('999'));
    assert.deepEqual(emergencyNumbers('US'), ['911']);
    assert.deepEqual(emergencyNumbers('CA'), ['911']);
    assert.ok(emergencyNumbers('AU').includes('000'));
    assert.deepEqual(emergencyNumbers('NZ'), ['111']);
    assert.ok(emergencyNumbers('DE').includes('110'), 'German police');
    assert.ok(
      ['15', '17', '18'].every((n) => emergencyNumbers('FR').includes(n)),
      'French SAMU, police, fire',
    );
  });

  test('a country not in the table (or none set) gets 112 and 911; case does not matter', () => {
    assert.deepEqual(emergencyNumbers(''), ['112', '911']);
    assert.deepEqual(emergencyNumbers('XX'), ['112', '911']);
    assert.deepEqual(emergencyNumbers('gb'), emergencyNumbers('GB'));
  });

  test("what is typed counts for the caller's country only, with separators, tel: and a withholding prefix", () => {
    assert.equal(emergencyNumberOf('999', 'GB'), '999');
    assert.equal(emergencyNumberOf(' 9 9 9 ', 'GB'), '999');
    assert.equal(emergencyNumberOf('tel:112', 'GB'), '112');
    assert.equal(emergencyNumberOf('*67 999', 'GB', ['*67', '141']), '999');
    assert.equal(emergencyNumberOf('911', 'GB'), null, '911 is not a GB emergency number');
    assert.equal(emergencyNumberOf('999', 'US'), null);
    assert.equal(emergencyNumberOf('911', 'US'), '911');
    assert.equal(emergencyNumberOf('9999', 'GB'), null, 'a longer number is not 999');
    assert.equal(emergencyNumberOf('+44999', 'GB'), null);
    assert.equal(emergencyNumberOf('020 7946 0999', 'GB'), null);
  });

  test('billing never charges any of them: every number of the table is an emergency short code', () => {
    for (const n of ALL_EMERGENCY_NUMBERS) assert.ok(isEmergencyShortCode(n), n);
    assert.ok(isEmergencyShortCode('111'), "New Zealand's 111");
    assert.equal(isEmergencyShortCode('201'), false, 'an extension is not');
  });
});

describe('emergency routing and location', () => {
  test('the carrier marked emergency is tried first, the others keep their order after it', () => {
    const order = emergencyCarrierOrder([
      trunk('a'),
      trunk('b'),
      trunk('sos', { emergency: true }),
      trunk('c'),
    ]);
    assert.deepEqual(
      order.map((c) => c.id),
      ['sos', 'a', 'b', 'c'],
    );
    assert.deepEqual(
      emergencyCarrierOrder([trunk('a'), trunk('b')]).map((c) => c.id),
      ['a', 'b'],
      'none marked: the usual order',
    );
  });

  test('PIDF-LO: the RFC 5139 civic address in a geopriv of one device, escaped, in schema order', () => {
    const doc = pidfLo({
      entity: 'sip:+442079460018@parley.example',
      address: OFFICE,
      at: new Date('2026-12-03T12:00:00Z'),
      deviceId: 'parley',
    });
    assert.match(doc, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
    assert.match(doc, /<presence xmlns="urn:ietf:params:xml:ns:pidf"/);
    assert.match(doc, /xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"/);
    assert.match(doc, /xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"/);
    assert.match(doc, /entity="sip:\+442079460018@parley\.example"/);
    assert.match(
      doc,
      /<gp:location-info><ca:civicAddress xml:lang="en"><ca:country>GB<\/ca:country><ca:A1>England<\/ca:A1><ca:A3>London<\/ca:A3><ca:RD>Example Street<\/ca:RD><ca:HNO>1<\/ca:HNO><ca:FLR>3<\/ca:FLR><ca:NAM>Contoso &amp; Partners<\/ca:NAM><ca:PC>SW1A 1AA<\/ca:PC><\/ca:civicAddress><\/gp:location-info>/,
    );
    assert.match(doc, /<gp:method>Manual<\/gp:method>/);
    assert.match(doc, /<dm:timestamp>2026-12-03T12:00:00.000Z<\/dm:timestamp>/);
    assert.doesNotMatch(doc, /<ca:A2>|<ca:ROOM>/, 'parts not given are left out');
    assert.equal(xmlEscape(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });

  test('the multipart/mixed body holds the SDP then the PIDF-LO, whose Content-ID the Geolocation header names', () => {
    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n';
    const parts = locationBody(sdp, '<presence/>', 'parley.example');
    const b = /^multipart\/mixed;boundary=(\S+)$/.exec(parts.contentType)?.[1];
    assert.ok(b, parts.contentType);
    assert.ok(!sdp.includes(b));
    const geo = parts.headers.find(([k]) => k === 'Geolocation')?.[1];
    const cid = /^<cid:(.+@parley\.example)>$/.exec(geo ?? '')?.[1];
    assert.ok(cid, geo);
    assert.deepEqual(
      parts.headers.find(([k]) => k === 'Geolocation-Routing'),
      ['Geolocation-Routing', 'yes'],
    );
    assert.equal(
      parts.body,
      `--${b}\r\nContent-Type: application/sdp\r\n\r\n${sdp}--${b}\r\n` +
        `Content-Type: application/pidf+xml\r\nContent-ID: <${cid}>\r\n\r\n<presence/>\r\n--${b}--\r\n`,
    );
  });

  test('the location goes only to a carrier set to take it, and only when one is kept', () => {
    const e = { number: '999', location: OFFICE };
    const sdp = 'v=0\r\n';
    assert.deepEqual(emergencyInviteParts(e, { pidfLo: false }, sdp, 'p.example', '+442079460018'), {
      headers: [],
    });
    assert.deepEqual(
      emergencyInviteParts({ number: '999', location: null }, { pidfLo: true }, sdp, 'p.example', null),
      { headers: [] },
    );
    const with_ = emergencyInviteParts(e, { pidfLo: true }, sdp, 'p.example', '+442079460018');
    assert.match(with_.body!.contentType, /^multipart\/mixed;boundary=/);
    assert.match(with_.body!.content, /<ca:A3>London<\/ca:A3>/);
    assert.match(with_.body!.content, /entity="sip:\+442079460018@p\.example"/);
    assert.equal(with_.headers.length, 2);
  });

  test('an address in words, most specific first', () => {
    assert.equal(
      addressText(OFFICE),
      'Contoso & Partners, Floor 3, 1 Example Street, London, England, SW1A 1AA, GB',
    );
  });
});

/** TrunkOutbound with emergency calls, Alice (a number) and Bob (none, withholding) in GB's acme. */
function outbound(o: { carriers: TrunkCarrier[]; callback?: string | null; located?: boolean }) {
  const mails: MailMessage[] = [];
  const events: Array<{ userIds: readonly string[]; kind: string; data: Record<string, unknown> }> = [];
  const carriers = new StaticCarrierDirectory(o.carriers);
  const numbers = new StaticNumberDirectory([
    { number: '+442079460018', carrierId: 'op', tenantId: 'acme', userId: 'alice' },
  ]);
  const emergency = new EmergencyCalls({
    carriers,
    numbers,
    store: {
      callerLocation: async () => (o.located === false ? null : { address: OFFICE, site: 'Head office' }),
      callbackNumber: async () => o.callback ?? null,
      admins: async () => [{ id: 'ada', address: 'ada@acme.example', displayName: 'Ada Admin' }],
    },
    events: {
      appendToMany: async (_scope, userIds, kind, data) => {
        events.push({ userIds, kind, data: data as Record<string, unknown> });
        return new Map();
      },
    },
    mailer: {
      send: async (m) => {
        mails.push(m);
        return { ok: true, messageId: 'm1', accepted: [String(m.to)], attempts: 1 };
      },
    },
    user: async (_t, id) => ({
      displayName: id === 'bob' ? 'Bob Baker' : 'Alice Archer',
      address: `${id}@acme.example`,
    }),
    withholdPrefixes: ['*67', '141'],
    log,
    now: () => Date.parse('2026-12-03T12:40:00Z'),
  });
  const service = new TrunkOutbound({
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
    carriers,
    numbers,
    withholdsCallerId: async (_t, userId) => userId === 'bob',
    withholdPrefixes: ['*67', '141'],
    dialPlanCountry: async () => 'GB',
    userByExtension: async (_t, ext) => (ext === '999' ? { userId: 'carol' } : null),
    media: {} as never,
    records: () => {},
    localHost: 'parley.example',
    sessionExpires: 1800,
    phoneCaller: () => undefined,
    emergency,
    log,
  });
  return { service, mails, events };
}

describe('an emergency call through TrunkOutbound', () => {
  test('999 is an emergency call (not the extension 999), to the emergency carrier, with the callback number and location', async () => {
    const { service, mails, events } = outbound({
      carriers: [trunk('cheap'), trunk('sos', { emergency: true, pidfLo: true })],
    });
    const r = await service.route({ tenantId: 'acme', userId: 'alice' }, '999');
    assert.equal(r.kind, 'number');
    if (r.kind !== 'number') return;
    assert.equal(r.e164, '999');
    assert.deepEqual(r.carrierIds, ['sos', 'cheap']);
    assert.equal(r.callerNumber, '+442079460018');
    assert.equal(r.withheld, false);
    assert.deepEqual(r.emergency, { number: '999', location: OFFICE });
    // The alert went at once: an event to the admin and a mail.
    await new Promise((res) => setImmediate(res));
    assert.equal(events.length, 1);
    assert.equal(events[0]!.kind, 'emergency.call');
    assert.deepEqual(events[0]!.userIds, ['ada']);
    assert.equal(events[0]!.data.number, '999');
    assert.equal(events[0]!.data.callerName, 'Alice Archer');
    assert.equal(
      events[0]!.data.text,
      'Alice Archer called the emergency number 999 at 12:40 UTC from Head office: Contoso & Partners, Floor 3, 1 Example Street, London, England, SW1A 1AA, GB.',
    );
    assert.equal(mails.length, 1);
    assert.deepEqual(mails[0]!.to, ['ada@acme.example']);
    assert.equal(mails[0]!.subject, 'Emergency call: Alice Archer called 999');
    assert.match(mails[0]!.text, /When: 2026-12-03T12:40:00.000Z/);
    assert.match(mails[0]!.text, /Location sent: Head office: .*London/);
  });

  test('a withholding caller with no number: never withheld, the tenant callback number; a channel limit does not stop it', async () => {
    const sos = trunk('sos', { emergency: true, channelLimit: 1 });
    const { service, mails } = outbound({ carriers: [sos], callback: '+442079460000', located: false });
    const r = await service.route({ tenantId: 'acme', userId: 'bob' }, '*67 112');
    assert.ok(r.kind === 'number' && r.emergency);
    assert.equal(r.callerNumber, '+442079460000');
    assert.equal(r.withheld, false);
    assert.equal(r.emergency.location, null);
    await new Promise((res) => setImmediate(res));
    assert.match(mails[0]!.text, /Location sent: none is kept/);
    // The carrier's only channel is taken by another call: an emergency call still gets one.
    const first = service.device({ tenantId: 'acme', userId: 'bob' }, r);
    const second = service.device({ tenantId: 'acme', userId: 'bob' }, r);
    assert.ok(first && second, 'both emergency legs made');
    assert.equal(service.inUse('sos'), 2);
  });

  test('no carrier at all: no_route, and the admins are alerted all the same', async () => {
    const { service, events } = outbound({ carriers: [] });
    await assert.rejects(
      service.route({ tenantId: 'acme', userId: 'alice' }, '999'),
      (e: unknown) => e instanceof ParleyError && e.code === 'no_route',
    );
    await new Promise((res) => setImmediate(res));
    assert.equal(events.length, 1);
  });

  test('a number that is not an emergency one in the country dials as before (911 in GB: an extension)', async () => {
    const { service, events } = outbound({ carriers: [trunk('sos', { emergency: true })] });
    await assert.rejects(
      service.route({ tenantId: 'acme', userId: 'alice' }, '911'),
      (e: unknown) => e instanceof ParleyError && e.code === 'not_found',
    );
    assert.equal(events.length, 0);
  });
});
