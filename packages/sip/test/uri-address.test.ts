/** URIs and name-addr values (RFC 3261 sections 19.1 and 20.10): parsing, escaping, serialization. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseNameAddr,
  parseUri,
  parseVia,
  SipParseError,
  SipUri,
  isSipUri,
  parseMessage,
} from '../src/index.ts';

describe('SIP URI', () => {
  test('all components, IPv6, case of scheme', () => {
    const u = parseUri(
      'SIPS:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi%20there&priority=urgent',
    );
    assert.ok(isSipUri(u));
    assert.equal(u.scheme, 'sips');
    assert.equal(u.user, 'alice');
    assert.equal(u.password, 'secret');
    assert.equal(u.host, '[2001:db8::1]');
    assert.equal(u.port, 5061);
    assert.equal(u.param('transport'), 'tcp');
    assert.equal(u.param('lr'), null);
    assert.deepEqual(u.headers, [
      ['subject', 'hi there'],
      ['priority', 'urgent'],
    ]);
    assert.equal(
      u.toString(),
      'sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi%20there&priority=urgent',
    );
  });

  test('escapes decode once and re-escape minimally', () => {
    const u = parseUri('sip:%61lice%20b@example.com;n%61me=v%2541') as SipUri;
    assert.equal(u.user, 'alice b');
    assert.equal(u.param('name'), 'v%41');
    assert.equal(u.toString(), 'sip:alice%20b@example.com;name=v%2541');
    assert.equal(new SipUri({ user: 'a@b;c', host: 'h' }).toString(), 'sip:a%40b;c@h');
  });

  test('rejects what the grammar does not allow', () => {
    for (const bad of [
      'sip:',
      'sip:user@',
      'sip:a b@c',
      'sip:host:99999',
      'sip:host:x',
      'sip:a@b%zz',
      '1sip:x',
      'sip:[::1',
      'sip:ho st',
    ]) {
      assert.throws(() => parseUri(bad), SipParseError, bad);
    }
  });

  test('other schemes are kept opaque', () => {
    const u = parseUri('tel:+1-201-555-0123;phone-context=example.com');
    assert.equal(u.scheme, 'tel');
    assert.equal(isSipUri(u), false);
    assert.equal(u.toString(), 'tel:+1-201-555-0123;phone-context=example.com');
  });
});

describe('name-addr and addr-spec', () => {
  test('quoted display names with escapes, header params vs URI params', () => {
    const a = parseNameAddr('"A \\"quoted\\" name" <sip:a@b;lr>;tag=x;expires=60', 'Contact');
    assert.equal(a.displayName, 'A "quoted" name');
    assert.equal((a.uri as SipUri).param('lr'), null);
    assert.equal(a.params.get('tag'), 'x');
    assert.equal(a.toString(), '"A \\"quoted\\" name" <sip:a@b;lr>;tag=x;expires=60');
    const b = parseNameAddr('sip:a@b;tag=y', 'From');
    assert.equal((b.uri as SipUri).params.length, 0);
    assert.equal(b.tag, 'y');
  });

  test('malformed values are coded 400 errors', () => {
    for (const bad of [
      '"unterminated <sip:a@b>',
      '<sip:a@b',
      'Bell, Alexander <sip:a@b>',
      '< sip:a@b >',
      'sip:a@b?x=y',
      '<sip:a@b>;;',
      '<sip:a@b> junk',
    ]) {
      assert.throws(
        () => parseNameAddr(bad, 'To'),
        (e: unknown) => e instanceof SipParseError && e.status === 400,
        bad,
      );
    }
  });
});

describe('Via', () => {
  test('LWS around separators, IPv6 sent-by, rport and received', () => {
    const v = parseVia(
      'SIP / 2.0 / tcp [2001:db8::9] : 5070 ; branch = z9hG4bK1 ; rport ; received=2001:db8::8',
    );
    assert.equal(v.transport, 'TCP');
    assert.equal(v.host, '[2001:db8::9]');
    assert.equal(v.port, 5070);
    assert.equal(v.branch, 'z9hG4bK1');
    assert.equal(v.rport, null);
    assert.equal(v.received, '2001:db8::8');
    assert.equal(v.sentBy, '[2001:db8::9]:5070');
  });

  test('rejects garbage', () => {
    for (const bad of [
      'SIP/2.0/UDP',
      'SIP/2.0 UDP host',
      'SIP/2.0/UDP host;',
      'SIP/2.0/UDP host:123456',
      'SIP/2.0/UDP host;rport=x',
    ]) {
      assert.throws(() => parseVia(bad), SipParseError, bad);
    }
  });
});

describe('message model', () => {
  test('compact forms, multi-value headers, set/append/remove, Content-Length from the body', () => {
    const m = parseMessage(
      'MESSAGE sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h1;branch=z9hG4bK1, SIP/2.0/UDP h2;branch=z9hG4bK2\r\n' +
        'f: <sip:x@y>;tag=1\r\nt: <sip:a@b>\r\ni: c1\r\nCSeq: 1 MESSAGE\r\nk: timer, 100rel\r\nl: 5\r\n\r\nhello',
    );
    assert.equal(m.via.length, 2);
    assert.deepEqual(m.values('supported'), ['timer', '100rel']);
    assert.equal(m.get('Call-ID'), 'c1');
    m.set('Subject', 'hi').append('Supported', 'path').remove('supported');
    m.body = Buffer.from('hello, world');
    const text = m.serialize().toString();
    assert.match(
      text,
      /^MESSAGE sip:a@b SIP\/2.0\r\nVia: SIP\/2.0\/UDP h1;branch=z9hG4bK1, SIP\/2.0\/UDP h2;branch=z9hG4bK2\r\nFrom:/,
    );
    assert.match(text, /Subject: hi\r\n/);
    assert.doesNotMatch(text, /Supported/);
    assert.match(text, /\r\nContent-Length: 12\r\n/);
    assert.match(text, /\r\n\r\nhello, world$/);
  });

  test('limits: too many headers, too long a line, too large a body', () => {
    const many = 'OPTIONS sip:a@b SIP/2.0\r\n' + 'X: y\r\n'.repeat(200) + '\r\n';
    assert.throws(
      () => parseMessage(many),
      (e: SipParseError) => e.code === 'SIP_TOO_MANY_HEADERS',
    );
    const long = 'OPTIONS sip:a@b SIP/2.0\r\nX: ' + 'y'.repeat(9000) + '\r\n\r\n';
    assert.throws(
      () => parseMessage(long),
      (e: SipParseError) => e.code === 'SIP_LINE_TOO_LONG',
    );
    const big = 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 100000\r\n\r\n';
    assert.throws(
      () => parseMessage(big),
      (e: SipParseError) => e.code === 'SIP_BODY_TOO_LARGE',
    );
  });
});
