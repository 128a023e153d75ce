/**
 * Loose input at the edge: names and titles that would display as something they are not (bidirectional
 * overrides, invisible characters, broken UTF-16) are refused, coded, on every path that sets one; a body
 * with `__proto__` is refused with a code that says so; an over-long URL gets the API's error shape.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeOperator,
  makeTenant,
  startServer,
  type TestServer,
  type TenantFixture,
} from '../helpers/server.ts';
import { code, type HttpResult } from '../helpers/http.ts';

/** Each would make a name look like another, or not be text at all. */
const tricks: Record<string, string> = {
  'right-to-left override': 'Invoice\u202Efdp.exe',
  'left-to-right isolate': 'Bob \u2066Admin\u2069',
  'zero-width space': 'al\u200Bice',
  'zero-width joiner between Latin letters': 'ali\u200Dce',
  'word joiner': 'bo\u2060b',
  'byte order mark': 'car\uFEFFol',
  'lone surrogate': 'dave\uD800',
  'soft hyphen': 'ev\u00ADe',
};
/** Real names that use the same code points legitimately, or just look unusual. */
const fine = [
  'Zoë Brontë-Ångström',
  'Family 👨‍👩‍👧', // emoji joined by ZWJ
  'می‌خواهم', // Persian with a zero-width non-joiner
  'मिट्‍टी', // Devanagari with a zero-width joiner
  'Ωμέγα 🇬🇷',
];

const fieldOf = (r: HttpResult) => (r.json as { error?: { field?: string } }).error?.field;

describe('loose input', () => {
  let s: TestServer;
  let t: TenantFixture;
  let operator: string;
  before(async () => {
    s = await startServer('sqlite');
    t = await makeTenant(s, 'loose');
    operator = await makeOperator(s);
  });
  after(() => s.close());

  /** Every path that sets a display name, title or name, with the field it sets. */
  const paths = (text: string, n: number) => [
    {
      what: 'create user',
      field: 'body.displayName',
      send: () =>
        s.http.post(
          '/api/users',
          { address: `u${n}@${t.domain}`, displayName: text, password: 'correct horse battery' },
          { token: t.admin.token },
        ),
    },
    {
      what: 'rename user',
      field: 'body.displayName',
      send: () => s.http.patch(`/api/users/${t.user.id}`, { displayName: text }, { token: t.admin.token }),
    },
    {
      what: 'user title',
      field: 'body.title',
      send: () => s.http.patch(`/api/users/${t.user.id}`, { title: text }, { token: t.admin.token }),
    },
    {
      what: 'create tenant',
      field: 'body.name',
      send: () =>
        s.http.post(
          '/api/operator/tenants',
          { name: text, domains: [`t${n}-${process.pid}.example`] },
          { token: operator },
        ),
    },
    {
      what: 'API key name',
      field: 'body.name',
      send: () => s.http.post('/api/api-keys', { name: text }, { token: t.admin.token }),
    },
    {
      what: 'contact group',
      field: 'body.name',
      send: () => s.http.post('/api/contact-groups', { name: text }, { token: t.user.token }),
    },
    {
      what: 'conversation title',
      field: 'body.title',
      send: () =>
        s.http.post(
          '/api/conversations',
          { members: [t.admin.id], title: text, kind: 'group' },
          { token: t.user.token },
        ),
    },
    {
      what: 'status note',
      field: 'body.note.text',
      send: () =>
        s.http.request('PUT', '/api/me/presence', { note: { text, until: null } }, { token: t.user.token }),
    },
    {
      what: 'billing plan',
      field: 'body.name',
      send: () =>
        s.http.post(
          '/api/operator/billing/plans',
          { name: text, pricePerUserMonth: '1', services: [], allowedClasses: [] },
          { token: operator },
        ),
    },
    {
      what: 'carrier',
      field: 'body.name',
      send: () => s.http.post('/api/operator/billing/carriers', { name: text }, { token: operator }),
    },
    {
      what: 'rate deck',
      field: 'body.name',
      send: () =>
        s.http.post('/api/operator/billing/decks', { name: text, kind: 'sell' }, { token: operator }),
    },
  ];

  test('bidirectional overrides, invisible characters and lone surrogates are refused on every path that sets a name', async () => {
    let n = 0;
    for (const [trick, text] of Object.entries(tricks)) {
      for (const p of paths(text, ++n)) {
        const r = await p.send();
        assert.equal(r.status, 400, `${p.what}, ${trick}: ${r.text}`);
        assert.equal(code(r), 'validation_failed', `${p.what}, ${trick}`);
        assert.equal(fieldOf(r), p.field, `${p.what}, ${trick}`);
        assert.match(r.text, /U\+[0-9A-F]{4}/, `${p.what}, ${trick}: the message names the character`);
      }
    }
    const user = (await s.http.get(`/api/users/${t.user.id}`, { token: t.admin.token })).json as {
      displayName: string;
      title: string | null;
    };
    assert.deepEqual([user.displayName, user.title], ['user', null], 'nothing was changed');
  });

  test('names in other scripts, with emoji or accents, are accepted', async () => {
    let n = 100;
    for (const text of fine) {
      for (const p of paths(text, ++n)) {
        const r = await p.send();
        assert.ok(r.status >= 200 && r.status < 300, `${p.what}, ${JSON.stringify(text)}: ${r.text}`);
      }
    }
    const user = (await s.http.get(`/api/users/${t.user.id}`, { token: t.admin.token })).json as {
      displayName: string;
    };
    assert.equal(user.displayName, fine.at(-1));
  });

  test('a body with __proto__ or constructor.prototype is refused as a forbidden key, not as malformed JSON', async () => {
    for (const raw of [
      '{"address":"a@b.example","password":"x","__proto__":{"role":"operator"}}',
      '{"address":"a@b.example","password":"x","constructor":{"prototype":{"role":"operator"}}}',
    ]) {
      const r = await s.http.post('/api/auth/login', undefined, { raw });
      assert.equal(r.status, 400, raw);
      assert.equal(code(r), 'forbidden_key', raw);
      assert.match(r.text, /__proto__|constructor/);
    }
    assert.equal(({} as Record<string, unknown>).role, undefined, 'no prototype was touched');
  });

  test('an over-long URL gets 414 with the error shape', async () => {
    const r = await s.http.get(`/api/users/${'u'.repeat(600)}`, { token: t.admin.token });
    assert.equal(r.status, 414);
    assert.equal(code(r), 'uri_too_long');
    assert.equal(typeof (r.json as { error: { message: string } }).error.message, 'string');
  });
});
