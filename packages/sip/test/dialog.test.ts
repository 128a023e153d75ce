/** Dialogs (RFC 3261 section 12): creation on both sides, route sets, in-dialog requests. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createResponse,
  Dialog,
  parseMessage,
  type SipRequest,
  type SipResponse,
  isSipUri,
} from '../src/index.ts';

const INVITE = parseMessage(
  'INVITE sip:bob@biloxi.example.com SIP/2.0\r\n' +
    'Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds8\r\n' +
    'Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>\r\n' +
    'Max-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.example.com>\r\n' +
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n' +
    'Call-ID: a84b4c76e66710\r\nCSeq: 314159 INVITE\r\nContact: <sip:alice@192.0.2.4>\r\nContent-Length: 0\r\n\r\n',
) as SipRequest;

describe('UAS side (12.1.1)', () => {
  test('ids, sequence numbers, remote target and the route set in Record-Route order', () => {
    const d = Dialog.fromRequest(INVITE, 'uas-tag');
    assert.deepEqual(d.id, { callId: 'a84b4c76e66710', localTag: 'uas-tag', remoteTag: '1928301774' });
    assert.equal(d.remoteSeq, 314159);
    assert.equal(d.localSeq, undefined);
    assert.equal(d.remoteTarget.toString(), 'sip:alice@192.0.2.4');
    assert.deepEqual(d.routeSet, ['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    const bye = d.createRequest('BYE');
    assert.equal(bye.uriText, 'sip:alice@192.0.2.4');
    assert.deepEqual(bye.getAll('route'), ['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    assert.equal(bye.from.tag, 'uas-tag');
    assert.equal(bye.to.tag, '1928301774');
    assert.equal(bye.callId, 'a84b4c76e66710');
  });

  test('in-dialog requests must have growing CSeq (12.2.2); INVITE refreshes the target', () => {
    const d = Dialog.fromRequest(INVITE, 't');
    const reinvite = parseMessage(
      INVITE.serialize()
        .toString()
        .replace('CSeq: 314159', 'CSeq: 314160')
        .replace('<sip:alice@192.0.2.4>', '<sip:alice@192.0.2.99>'),
    ) as SipRequest;
    assert.equal(d.receiveRequest(reinvite), true);
    assert.equal(d.remoteTarget.toString(), 'sip:alice@192.0.2.99');
    assert.equal(d.receiveRequest(reinvite), false, 'same CSeq again is out of order');
  });
});

describe('UAC side (12.1.2)', () => {
  const ok = (): SipResponse => {
    const r = createResponse(INVITE, 200, {
      toTag: 'b-tag',
      headers: [['Contact', '<sip:bob@192.0.2.10:5070>']],
    });
    r.append('Record-Route', '<sip:p2.example.com;lr>, <sip:p1.example.com;lr>');
    return parseMessage(r.serialize()) as SipResponse;
  };

  test('route set reversed, target from the 2xx Contact, local CSeq from the request', () => {
    const d = Dialog.fromResponse(INVITE, ok());
    assert.equal(d.state, 'confirmed');
    assert.deepEqual(d.routeSet, ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    assert.equal(d.localSeq, 314159);
    const ack = d.createRequest('ACK', { cseq: 314159 });
    assert.equal(ack.cseq.seq, 314159);
    assert.equal(ack.cseq.method, 'ACK');
    const bye = d.createRequest('BYE');
    assert.equal(bye.cseq.seq, 314160);
    assert.equal(bye.uriText, 'sip:bob@192.0.2.10:5070');
    assert.equal(bye.to.tag, 'b-tag');
    const next = d.nextHop();
    assert.ok(isSipUri(next) && next.host === 'p1.example.com');
  });

  test('a strict router first (no lr): it becomes the Request-URI and the target goes last in Route', () => {
    const r = ok();
    r.set('Record-Route', ['<sip:strict.example.com>']);
    const d = Dialog.fromResponse(INVITE, parseMessage(r.serialize()) as SipResponse);
    const bye = d.createRequest('BYE');
    assert.equal(bye.uriText, 'sip:strict.example.com');
    assert.deepEqual(bye.getAll('route'), ['<sip:bob@192.0.2.10:5070>']);
  });

  test('state machine: early -> confirmed -> terminated; illegal moves throw', () => {
    const early = createResponse(INVITE, 180, { toTag: 'b', headers: [['Contact', '<sip:bob@192.0.2.10>']] });
    const d = Dialog.fromResponse(INVITE, parseMessage(early.serialize()) as SipResponse);
    assert.equal(d.state, 'early');
    d.transition('confirmed');
    d.transition('terminated');
    assert.throws(() => d.transition('confirmed'), /terminated -> confirmed/);
    assert.throws(() => d.createRequest('BYE'));
  });
});
