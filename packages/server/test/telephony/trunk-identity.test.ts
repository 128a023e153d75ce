/**
 * Who is calling, as carriers write it (trunk-identity.ts): From, P-Asserted-Identity,
 * Remote-Party-ID, Privacy and Diversion on the way out; the same headers read on the way in.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, type SipRequest } from '@parley/sip';
import {
  ANONYMOUS_URI,
  formatForCarrier,
  inboundIdentity,
  outboundIdentity,
  withholdPrefix,
} from '../../src/telephony/trunk-identity.ts';
import { callerOf } from '../../src/telephony/trunk-inbound.ts';

const base = {
  identity: 'pai' as const,
  callerIdFormat: 'e164' as const,
  callerNumber: '+442079460018',
  withheld: false,
  localHost: 'sip.parley.example',
};

function invite(headers: string[], from = '<sip:+447700900123@10.0.0.1>;tag=a'): SipRequest {
  const text = [
    'INVITE sip:+442079460123@parley.example SIP/2.0',
    'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1',
    `From: ${from}`,
    'To: <sip:+442079460123@parley.example>',
    'Call-ID: c1',
    'CSeq: 1 INVITE',
    'Contact: <sip:10.0.0.1:5060>',
    'Max-Forwards: 70',
    ...headers,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return parseMessage(text) as SipRequest;
}

describe('calls out', () => {
  test('PAI carries the number in the carrier’s format; From the same', () => {
    const id = outboundIdentity({ ...base, callerIdFormat: 'national' });
    assert.equal(id.from, 'sip:02079460018@sip.parley.example');
    assert.deepEqual(id.headers, [['P-Asserted-Identity', '<sip:02079460018@sip.parley.example>']]);
  });

  test('withheld: From anonymous and Privacy: id, but PAI still asserts the number to the carrier', () => {
    const id = outboundIdentity({ ...base, withheld: true });
    assert.equal(id.from, ANONYMOUS_URI);
    assert.deepEqual(id.headers, [
      ['P-Asserted-Identity', '<sip:+442079460018@sip.parley.example>'],
      ['Privacy', 'id'],
    ]);
  });

  test('Remote-Party-ID for carriers that read it, with privacy=full when withheld; none: From alone', () => {
    const shown = outboundIdentity({ ...base, identity: 'rpid', callerIdFormat: 'e164_no_plus' });
    assert.deepEqual(shown.headers, [
      ['Remote-Party-ID', '<sip:442079460018@sip.parley.example>;party=calling;screen=yes;privacy=off'],
    ]);
    const hidden = outboundIdentity({ ...base, identity: 'rpid', withheld: true });
    assert.match(hidden.headers[0]![1], /privacy=full$/);
    assert.deepEqual(hidden.headers[1], ['Privacy', 'id']);
    const none = outboundIdentity({ ...base, identity: 'none' });
    assert.deepEqual(none, { from: 'sip:+442079460018@sip.parley.example', headers: [] });
  });

  test('a caller without a number calls as anonymous with Privacy: id and no asserted identity', () => {
    const id = outboundIdentity({ ...base, callerNumber: null });
    assert.deepEqual(id, { from: ANONYMOUS_URI, headers: [['Privacy', 'id']] });
  });

  test('a forwarded call carries Diversion with the number first called and the reason', () => {
    const id = outboundIdentity({
      ...base,
      divertedFrom: { number: '+442079460020', reason: 'no-answer' },
    });
    assert.deepEqual(id.headers.at(-1), [
      'Diversion',
      '<sip:+442079460020@sip.parley.example>;reason=no-answer;counter=1',
    ]);
  });

  test('caller-ID formats, and a number libphonenumber cannot read kept as it is', () => {
    assert.equal(formatForCarrier('+447700900123', 'e164'), '+447700900123');
    assert.equal(formatForCarrier('+447700900123', 'e164_no_plus'), '447700900123');
    assert.equal(formatForCarrier('+447700900123', 'national'), '07700900123');
    assert.equal(formatForCarrier('+999', 'national'), '+999');
  });

  test('withholding prefixes: the longest first, only at the start, never the whole of it', () => {
    assert.deepEqual(withholdPrefix('*67 020 7946 0999', ['*6', '*67']), {
      rest: '020 7946 0999',
      withheld: true,
    });
    assert.deepEqual(withholdPrefix('020 *67', ['*67']), { rest: '020 *67', withheld: false });
    assert.deepEqual(withholdPrefix('*67', ['*67']), { rest: '*67', withheld: false });
  });
});

describe('calls in', () => {
  test('PAI, then RPID naming the calling party; Diversion’s first entry', () => {
    const req = invite([
      'Remote-Party-ID: <sip:+441632960999@c.example>;party=called',
      'Remote-Party-ID: "Acme" <sip:+441632960001@c.example>;party=calling;privacy=off',
      'Diversion: <sip:+442079460020@c.example>;reason=no-answer',
      'Diversion: <sip:+442079460021@c.example>;reason=user-busy',
    ]);
    const id = inboundIdentity(req);
    assert.equal(id.asserted, null);
    assert.equal(id.rpid?.addr.uri.toString(), 'sip:+441632960001@c.example');
    assert.equal(id.withheld, false);
    assert.equal(id.diversion?.uri.toString(), 'sip:+442079460020@c.example');
    assert.deepEqual(callerOf(req), { number: '+441632960001', displayName: 'Acme' });
  });

  test('Privacy: id, or RPID privacy=full: the callee is shown no number and no name', () => {
    const pai = invite(['P-Asserted-Identity: "Eve" <sip:+441632960001@c.example>', 'Privacy: id']);
    assert.equal(inboundIdentity(pai).withheld, true);
    assert.deepEqual(callerOf(pai), { number: null, displayName: null });
    const rpid = invite(['Remote-Party-ID: <sip:+441632960001@c.example>;party=calling;privacy=full']);
    assert.deepEqual(callerOf(rpid), { number: null, displayName: null });
    const none = invite(['Privacy: none']);
    assert.equal(callerOf(none).number, '+447700900123');
  });

  test('a malformed identity header is ignored: From still says who called', () => {
    const req = invite(['P-Asserted-Identity: <<<garbage', 'Diversion: ;;;']);
    const id = inboundIdentity(req);
    assert.deepEqual([id.asserted, id.diversion], [null, null]);
    assert.equal(callerOf(req).number, '+447700900123');
  });
});
