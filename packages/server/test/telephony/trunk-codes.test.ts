/**
 * The carrier code mapping (src/telephony/trunk-codes.ts): every code issue 18 names maps to the end
 * reason and words the caller sees, unknown codes fall back by class, and every way an inbound call can
 * end unanswered gives the carrier a final answer.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason } from '@parley/protocol';
import { carrierFailure, inboundAnswer } from '../../src/telephony/trunk-codes.ts';

describe('carrier failures, outbound', () => {
  test('the codes issue 18 names end the call as the caller would expect', () => {
    assert.equal(carrierFailure(486, 'Busy Here').reason, 'busy');
    assert.equal(carrierFailure(480).reason, 'unavailable');
    assert.equal(carrierFailure(404).words, 'That number does not exist.');
    assert.equal(carrierFailure(484).words, 'That number is incomplete.');
    const down = carrierFailure(503, 'Service Unavailable');
    assert.deepEqual(down, {
      reason: 'failed',
      words: 'The phone network is not taking calls right now.',
      sipCode: 503,
      sipText: 'Service Unavailable',
    });
  });
  test('unlisted codes fall back by class, and every result is a known end reason', () => {
    assert.equal(carrierFailure(502).words, 'The phone network could not take the call.');
    assert.equal(carrierFailure(410).words, 'The call could not be completed.');
    for (let code = 300; code <= 699; code++) {
      const f = carrierFailure(code);
      assert.ok(CallEndReason.safeParse(f.reason).success, `${code}`);
      assert.equal(f.sipCode, code);
    }
  });
  test('a success or a provisional answer is no failure', () => {
    for (const code of [100, 183, 200, 299, 700, 486.5, Number.NaN])
      assert.throws(() => carrierFailure(code), RangeError);
  });
});

describe('inbound refusals', () => {
  test('busy, declined, unknown number and the channel limit get their codes', () => {
    assert.equal(inboundAnswer('busy').code, 486);
    assert.equal(inboundAnswer('declined').code, 603);
    assert.equal(inboundAnswer('unknown_number').code, 404);
    assert.equal(inboundAnswer('channel_limit').code, 503);
    assert.equal(inboundAnswer('no_answer').code, 480);
  });
  test('every end reason has a final answer', () => {
    for (const r of CallEndReason.options) {
      const a = inboundAnswer(r);
      assert.ok(a.code >= 400 && a.code < 700, r);
      assert.ok(a.text.length > 0, r);
    }
  });
});
