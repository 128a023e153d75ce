import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParleyError } from '@parley/protocol';
import { dial } from '../../src/telephony/dial-plan.ts';
import { IP_TRUNK, StaticCarrierDirectory, type TrunkCarrier } from '../../src/telephony/carriers.ts';
import { StaticNumberDirectory } from '../../src/telephony/numbers.ts';

const GB = { country: 'GB' };
const US = { country: 'US' };
const num = (e164: string) => ({ kind: 'number', e164 });

test('national numbers read in the tenant country, international in any format', () => {
  assert.deepEqual(dial('020 7946 0018', GB), num('+442079460018'));
  assert.deepEqual(dial('07400 123456', GB), num('+447400123456'));
  assert.deepEqual(dial('+33 1 42 68 53 00', GB), num('+33142685300'));
  assert.deepEqual(dial('00 33 1 42 68 53 00', GB), num('+33142685300'));
  assert.deepEqual(dial('(212) 736-0100', US), num('+12127360100'));
  assert.deepEqual(dial('011 33 1 42 68 53 00', US), num('+33142685300'));
  // The same national text means another number in another country.
  assert.deepEqual(dial('0142685300', { country: 'FR' }), num('+33142685300'));
  assert.deepEqual(dial('+442079460018', { country: '' }), num('+442079460018'));
});

test('pasted text and tel: links are cleaned', () => {
  assert.deepEqual(dial('  +44\u00a020-7946-0018 ', GB), num('+442079460018'));
  assert.deepEqual(dial('tel:+44-20-7946-0018', US), num('+442079460018'));
  assert.deepEqual(dial('tel:+442079460018;ext=12', US), num('+442079460018'));
  assert.deepEqual(dial('TEL:%2B442079460018', US), num('+442079460018'));
  assert.deepEqual(dial('+44 20.7946.0018', US), num('+442079460018'));
});

test('short digit strings are extensions', () => {
  assert.deepEqual(dial('201', GB), { kind: 'extension', extension: '201' });
  assert.deepEqual(dial('12345678', GB), { kind: 'extension', extension: '12345678' });
  assert.deepEqual(dial('20', GB), { kind: 'extension', extension: '20' });
});

test('what is not a number is invalid_number, with a sentence', () => {
  for (const typed of [
    '',
    '   ',
    'alice',
    '+44 20 79x6',
    '123456789',
    '+1',
    '+999 123 456 789',
    'tel:',
    'x'.repeat(100),
  ]) {
    assert.throws(
      () => dial(typed, GB),
      (err: unknown) =>
        err instanceof ParleyError && err.code === 'invalid_number' && err.message.length > 10,
      typed,
    );
  }
  // A national number with no country to read it in.
  assert.throws(() => dial('020 7946 0018', { country: '' }), /country code/);
  assert.throws(() => dial('020 7946 0018', { country: 'ZZ' }), /country code/);
});

const carrier = (id: string, tenantId: string | null, allow: string[], enabled = true): TrunkCarrier => ({
  id,
  name: id,
  tenantId,
  addresses: [{ host: '127.0.0.2', port: 5060 }],
  transport: 'udp',
  allow,
  codecs: ['PCMA', 'PCMU'],
  callerIdFormat: 'e164',
  channelLimit: null,
  enabled,
  ...IP_TRUNK,
});

test('the static carrier directory: the tenant own carriers first, sources from allow-lists', async () => {
  const d = new StaticCarrierDirectory([
    carrier('op', null, ['127.0.0.2']),
    carrier('t1', 't1', ['127.0.0.3']),
    carrier('t2', 't2', ['127.0.0.4']),
    carrier('off', null, ['127.0.0.5'], false),
  ]);
  assert.deepEqual(
    (await d.carriersFor('t1', '+442079460018')).map((c) => c.id),
    ['t1', 'op'],
  );
  assert.deepEqual(
    (await d.carriersFor('t3', '+442079460018')).map((c) => c.id),
    ['op'],
  );
  assert.equal(d.carrierBySource('::ffff:127.0.0.3')?.id, 't1');
  assert.equal(d.carrierBySource('127.0.0.5'), undefined);
  assert.equal(d.carrierBySource('127.0.0.9'), undefined);
  assert.equal((await d.get('off'))?.enabled, false);
});

test('the static number directory: a user caller ID is their first number', async () => {
  const d = new StaticNumberDirectory([
    { number: '+442079460019', carrierId: 'op', tenantId: 't1', userId: 'u1' },
    { number: '+442079460018', carrierId: 'op', tenantId: 't1', userId: 'u1' },
    { number: '+442079460017', carrierId: 'op', tenantId: 't2', userId: 'u1' },
  ]);
  assert.equal(await d.numberOfUser('t1', 'u1'), '+442079460018');
  assert.equal(await d.numberOfUser('t1', 'u2'), null);
  assert.equal((await d.byNumber('+442079460017'))?.tenantId, 't2');
  assert.equal(await d.byNumber('+440000'), null);
});
