/**
 * An INVITE with a body other than bare SDP (`body` in the invite options): a multipart/mixed of the
 * SDP and an RFC 6442 location, as emergency calls send. The INVITE carries the body with its
 * Content-Type, the session's local description is still the SDP alone (what a re-INVITE offers),
 * and the answer's SDP is read as for any call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InviteSession, SipRequest } from '../src/index.ts';
import { makeUa, peer, SDP, settle, world } from './ua-helpers.ts';

const A = peer('10.0.0.1');
const B = peer('10.0.0.2');

test('a multipart INVITE body goes as given; the session keeps the SDP; the answer is read', async () => {
  const { net, clock } = world();
  const a = makeUa(net, clock, A.address);
  const got: SipRequest[] = [];
  const sessions: InviteSession[] = [];
  makeUa(net, clock, B.address, {
    policy: {
      allow: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'UPDATE'],
      supported: ['timer'],
      accept: ['application/sdp', 'multipart/mixed'],
      isLocalTarget: () => true,
    },
    handlers: {
      onInvite: (inv) => {
        got.push(inv.request);
        const s = inv.accept({ body: SDP(4000) });
        if (s) sessions.push(s);
      },
    },
  });
  const sdp = SDP(3000);
  const content = `--b1\r\nContent-Type: application/sdp\r\n\r\n${sdp}--b1\r\nContent-Type: application/pidf+xml\r\nContent-ID: <loc@a>\r\n\r\n<presence/>\r\n--b1--\r\n`;
  const call = await settle(
    clock,
    a.invite({
      target: 'sip:999@10.0.0.2',
      from: 'sip:+442079460018@10.0.0.1',
      dest: B,
      sdp,
      body: { contentType: 'multipart/mixed;boundary=b1', content },
      headers: [['Geolocation', '<cid:loc@a>']],
    }).answered,
  );
  assert.equal(got.length, 1);
  assert.equal(got[0]!.get('content-type'), 'multipart/mixed;boundary=b1');
  assert.equal(got[0]!.body.toString(), content);
  assert.equal(got[0]!.get('geolocation'), '<cid:loc@a>');
  assert.equal(call.localSdp?.toString(), sdp, 'the local description is the SDP alone');
  assert.equal(call.remoteSdp?.toString(), SDP(4000), "the answer's SDP is read");
});
