/**
 * Contact lists through the SDK: groups, favourites, persisted across a restart; same-tenant only;
 * private to their owner; a change reaches the owner's other devices as a durable event.
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParleyClient } from '@parley/sdk';
import { makeTenant, makeUser, startServer, type TestServer, type TenantFixture } from '../helpers/server.ts';
import { closeClients, makeClient } from '../realtime/clients.ts';

describe('contacts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-contacts-'));
  let s: TestServer;
  let a: TenantFixture;
  let b: TenantFixture;
  before(async () => {
    s = await startServer('sqlite', { dataDir });
    a = await makeTenant(s, 'conta');
    b = await makeTenant(s, 'contb');
  });
  afterEach(() => closeClients());
  after(async () => {
    await s.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('groups and favourites, kept across a restart; deleting a group keeps its contacts', async () => {
    const me = makeClient(s, a.user).client;
    const bob = await makeUser(s, a.id, `bob@${a.domain}`, 'user', 'Bob Baker');
    const carol = await makeUser(s, a.id, `carol@${a.domain}`, 'user', 'Carol Cole');
    const team = await me.contacts.createGroup('Project Falcon');
    const later = await me.contacts.createGroup('Suppliers');
    assert.deepEqual([team.position, later.position], [0, 1]);
    await me.contacts.put(bob.id, { groupId: team.id, favourite: true });
    await me.contacts.put(carol.id);
    await me.contacts.put(carol.id, { groupId: later.id });

    // Restart on the same data folder: the list is persisted.
    await s.app.close();
    s = await startServer('sqlite', { dataDir });
    const again = new ParleyClient({ baseUrl: s.url });
    again.useTokens({ accessToken: a.user.token });
    const list = await again.contacts.list();
    assert.deepEqual(
      list.groups.map((g) => g.name),
      ['Project Falcon', 'Suppliers'],
    );
    assert.deepEqual(
      list.contacts.map((c) => [c.user.displayName, c.groupId, c.favourite]),
      [
        ['Bob Baker', team.id, true],
        ['Carol Cole', later.id, false],
      ],
    );
    await again.contacts.deleteGroup(later.id);
    const after = await again.contacts.list();
    assert.equal(after.groups.length, 1);
    assert.equal(after.contacts.find((c) => c.userId === carol.id)?.groupId, null);
    await again.contacts.remove(carol.id);
    assert.deepEqual(
      (await again.contacts.list()).contacts.map((c) => c.userId),
      [bob.id],
    );
  });

  test("another tenant's user cannot be a contact; another user's group cannot be used", async () => {
    const me = makeClient(s, a.user).client;
    await assert.rejects(me.contacts.put(b.user.id), { code: 'not_found' });
    const theirs = await makeClient(s, a.admin).client.contacts.createGroup('Admin only');
    await assert.rejects(me.contacts.put(a.admin.id, { groupId: theirs.id }), { code: 'not_found' });
    await assert.rejects(me.contacts.updateGroup(theirs.id, { name: 'Mine now' }), { code: 'not_found' });
    const foreign = makeClient(s, b.user).client;
    assert.ok((await foreign.contacts.list()).contacts.every((c) => c.user.tenantId === b.id));
  });

  test("a change on one device reaches the owner's other devices as a durable event", async () => {
    const u = await makeUser(s, a.id, `twodevices@${a.domain}`);
    const other = await makeUser(s, a.id, `dave@${a.domain}`);
    const phone = makeClient(s, u, 'phone');
    await phone.client.connect();
    const laptop = makeClient(s, u, 'laptop');
    await laptop.client.contacts.put(other.id, { favourite: true });
    const [e] = await phone.waitEvents(1);
    assert.equal(e!.kind, 'contacts.changed');
    assert.deepEqual(e!.data, { change: 'added', userId: other.id });
  });
});
