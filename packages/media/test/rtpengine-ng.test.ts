/**
 * Bencode both ways and the `ng` client against a real rtpengine daemon started here: ping, a phone's
 * offer and answer rewritten onto the daemon's own ports, query, delete, a refused command with its
 * reason, retries that resend the same cookie to a node that stays silent until the third try, and a
 * coded timeout from a node that never answers.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import test from 'node:test';
import { bdecode, bencode, isNgError, NgClient } from '../src/index.ts';
import { startRtpengine } from './rtpengine-daemon.ts';

test('bencode: dictionaries sorted by key, lists, integers, UTF-8 strings; decoding inverts it', () => {
  const v = { z: 1, a: ['x', -3, { b: 'é' }], command: 'offer', skipped: undefined };
  const wire = bencode(v);
  assert.equal(wire.toString('utf8'), 'd1:al1:xi-3ed1:b2:éee7:command5:offer1:zi1ee');
  assert.deepEqual(bdecode(wire), { a: ['x', -3, { b: 'é' }], command: 'offer', z: 1 });
});

test('bencode: truncated, trailing and non-string-keyed input is a coded invalid_bencode error', () => {
  for (const bad of ['d3:abc', 'i12', '5:abc', 'di1ei2ee', 'le1', 'x', 'i1.5e']) {
    assert.throws(
      () => bdecode(Buffer.from(bad)),
      (e: unknown) => isNgError(e, 'invalid_bencode'),
      bad,
    );
  }
  assert.throws(
    () => bencode(1.5),
    (e: unknown) => isNgError(e, 'invalid_bencode'),
  );
  assert.throws(
    () => bencode(true),
    (e: unknown) => isNgError(e, 'invalid_bencode'),
  );
});

const phoneSdp = (port: number, ip: string): string =>
  [
    'v=0',
    `o=- 1 1 IN IP4 ${ip}`,
    's=-',
    `c=IN IP4 ${ip}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');

test('ng: ping, offer, answer, query and delete against a real rtpengine', async () => {
  const node = await startRtpengine();
  const ng = new NgClient({ host: node.host, port: node.port });
  try {
    assert.equal(await ng.ping(), true);
    const call = { 'call-id': `t-${Date.now()}`, 'from-tag': 'a1' };
    const offer = await ng.offer({
      ...call,
      sdp: phoneSdp(30000, '127.0.0.2'),
      'transport-protocol': 'RTP/AVP',
    });
    assert.equal(offer.result, 'ok');
    const offered = String(offer.sdp);
    assert.match(offered, /^c=IN IP4 127\.0\.0\.1\r$/m, 'the offer now points at the daemon');
    assert.doesNotMatch(offered, /^m=audio 30000 /m);
    const answer = await ng.answer({ ...call, 'to-tag': 'b1', sdp: phoneSdp(30002, '127.0.0.3') });
    assert.equal(answer.result, 'ok');
    assert.match(String(answer.sdp), /^m=audio \d+ RTP\/AVP 0 101\r$/m);
    const q = await ng.query(call);
    assert.equal(q.result, 'ok');
    assert.ok(q.tags && typeof q.tags === 'object', 'query lists both tags');
    assert.deepEqual(Object.keys(q.tags as object).sort(), ['a1', 'b1']);
    const d = await ng.delete(call);
    assert.equal(d.result, 'ok');
    await assert.rejects(
      ng.query(call),
      (e: unknown) => isNgError(e, 'ng_refused') && /Unknown call-id/i.test(e.message),
    );
  } finally {
    ng.close();
    await node.stop();
  }
});

test("ng: a refused command rejects with ng_refused and the daemon's reason", async () => {
  const node = await startRtpengine();
  const ng = new NgClient({ host: node.host, port: node.port });
  try {
    await assert.rejects(
      ng.answer({ 'call-id': 'nobody', 'from-tag': 'x', 'to-tag': 'y', sdp: phoneSdp(30000, '127.0.0.2') }),
      (e: unknown) => isNgError(e, 'ng_refused') && /Unknown call-id/i.test(e.message),
    );
  } finally {
    ng.close();
    await node.stop();
  }
});

test('ng: retries resend the same cookie; a silent node is a coded ng_timeout after every try', async () => {
  const silent = createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
  const seen: string[] = [];
  let answerOnTry = 3;
  silent.on('message', (msg, from) => {
    seen.push(msg.toString());
    const cookie = msg.toString().split(' ')[0]!;
    if (seen.length === answerOnTry)
      silent.send(Buffer.from(`${cookie} d6:result4:ponge`), from.port, from.address);
  });
  const ng = new NgClient({ host: '127.0.0.1', port: silent.address().port, timeoutMs: 100, retries: 2 });
  try {
    assert.equal(await ng.ping(), true);
    assert.equal(seen.length, 3);
    assert.equal(new Set(seen).size, 1, 'every try is the same datagram, cookie included');
    seen.length = 0;
    answerOnTry = 0;
    const started = Date.now();
    await assert.rejects(ng.ping(), (e: unknown) => isNgError(e, 'ng_timeout'));
    assert.equal(seen.length, 3);
    assert.ok(Date.now() - started >= 290);
  } finally {
    ng.close();
    silent.close();
  }
  await assert.rejects(ng.ping(), (e: unknown) => isNgError(e, 'ng_closed'));
});
