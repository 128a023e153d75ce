/**
 * What the dial pad keeps of pasted and linked numbers (packages/web/src/calls/dial-text.ts): the
 * server's dial plan reads the result, so the pad only has to drop what is not dialled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanDialled, toE164 } from '../../packages/web/src/calls/dial-text.ts';

test('pasted text and tel: links become what is dialled', () => {
  const cases: Array<[string, string]> = [
    ['+44 20 7946 0018', '+442079460018'],
    ['Call +44 (0)20 7946-0018, thanks!', '+442079460018'],
    ['(020) 7946 0018', '02079460018'],
    ['tel:+1-202-555-0143;phone-context=example', '+12025550143'],
    ['TEL:%2B33%201%2042%2068%2053%2000', '+33142685300'],
    ['+1.202.555.0143 ext', '+12025550143'],
    ['2001', '2001'],
    ['*21#', '*21#'],
    ['no digits here', ''],
  ];
  for (const [pasted, dialled] of cases) assert.equal(cleanDialled(pasted), dialled, pasted);
});

test('the operator types numbers in international format only', () => {
  assert.equal(toE164('+44 20 7946 0018'), '+442079460018');
  assert.equal(toE164('+1 (202) 555-0143'), '+12025550143');
  assert.equal(toE164('020 7946 0018'), null);
  assert.equal(toE164('+0 1234'), null);
  assert.equal(toE164('+44 20 7946 0018 9999 99'), null);
});
