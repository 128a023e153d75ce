/**
 * Presence end to end, driven through the SDK: several devices of one user aggregate; watchers get
 * every change at once and only watchers get it; other tenants get nothing and cannot subscribe; manual
 * states expire; idle devices go Away; a reconnect within the grace does not flap the user Offline.
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { makeTenant, makeUser, startServer, type TestServer, type TenantFixture } from '../helpers/server.ts';
import { closeClients, makeClient, roundTrip, waitFor } from '../realtime/clients.ts';
import { advancingTime } from '../helpers/fake-time.ts';

describe('presence', () => {
  let s: TestServer;
  let a: TenantFixture;
  let b: TenantFixture;
  const GRACE = 400;
  // Presence's grace and expiry timers run on this clock: the tests move it instead of sleeping.
  const time = advancingTime();
  before(async () => {
    s = await startServer('sqlite', { presenceGraceMs: GRACE }, { presenceTime: time });
    a = await makeTenant(s, 'presa');
    b = await makeTenant(s, 'presb');
  });
  afterEach(() => closeClients());
  after(() => s.close());

  test('a watcher gets the current state at once, then every change of that user', async () => {
    const alice = makeClient(s, a.user);
    await alice.client.connect();
    const watcher = makeClient(s, a.admin);
    await watcher.client.connect();
    const snap = await watcher.client.presence.subscribe([a.user.id]);
    assert.equal(snap.presences[0]!.availability, 'available');
    assert.deepEqual(snap.refused, []);

    await alice.client.presence.set({
      manual: { availability: 'busy', until: null },
      note: { text: 'Writing the report', until: null },
    });
    const busy = await watcher.waitPresence((p) => p.userId === a.user.id && p.availability === 'busy');
    assert.equal(busy.note?.text, 'Writing the report');
    await alice.client.presence.set({
      manual: null,
      note: null,
      outOfOffice: { message: 'On leave until Monday', until: null },
    });
    const back = await watcher.waitPresence(
      (p) => p.userId === a.user.id && p.availability === 'available' && p.outOfOffice !== null,
    );
    assert.equal(back.note, null);
    // Your own devices see your own presence too.
    await alice.waitPresence(
      (p) => p.userId === a.user.id && p.outOfOffice?.message === 'On leave until Monday',
    );
    await alice.client.presence.set({ outOfOffice: null });
  });

  test('several devices aggregate: presenting on one makes the user Do not disturb; its leaving restores Available', async () => {
    const u = await makeUser(s, a.id, `multi@${a.domain}`);
    const laptop = makeClient(s, u, 'laptop');
    const phone = makeClient(s, u, 'phone');
    await laptop.client.connect();
    await phone.client.connect();
    const watcher = makeClient(s, a.admin);
    await watcher.client.connect();
    await watcher.client.presence.subscribe([u.id]);

    await laptop.client.presence.publish({ activity: 'presenting' });
    const dnd = await watcher.waitPresence((p) => p.userId === u.id && p.availability === 'do_not_disturb');
    assert.equal(dnd.activity, 'presenting');
    await phone.client.presence.publish({ idle: true });
    await laptop.client.presence.publish({ activity: 'none' });
    // The phone is idle, the laptop active: Available, not Away.
    await watcher.waitPresence(
      (p) => p.userId === u.id && p.availability === 'available' && p.activity === 'none',
    );
    await laptop.client.presence.publish({ idle: true });
    await watcher.waitPresence((p) => p.userId === u.id && p.availability === 'away');
    laptop.client.disconnect(); // deliberate: no grace
    await phone.client.presence.publish({ idle: false });
    await watcher.waitPresence(
      (p) => p.userId === u.id && p.availability === 'available' && p.since > dnd.since,
    );
    phone.client.disconnect();
    await watcher.waitPresence((p) => p.userId === u.id && p.availability === 'offline');
  });

  test("the SDK's idle tracking reports a device idle without input (Away) and active at the next input", async () => {
    const u = await makeUser(s, a.id, `idler@${a.domain}`);
    const c = makeClient(s, u);
    await c.client.connect();
    const watcher = makeClient(s, a.admin);
    await watcher.client.connect();
    await watcher.client.presence.subscribe([u.id]);
    const input = new EventTarget();
    const stop = c.client.presence.trackIdle(input, 150);
    const away = await watcher.waitPresence((p) => p.userId === u.id && p.availability === 'away');
    input.dispatchEvent(new Event('keydown'));
    await watcher.waitPresence(
      (p) => p.userId === u.id && p.availability === 'available' && p.since > away.since,
    );
    stop();
  });

  test('a manual state with an expiry ends by itself ("Busy for a moment")', async () => {
    const u = await makeUser(s, a.id, `expiry@${a.domain}`);
    const c = makeClient(s, u);
    await c.client.connect();
    const watcher = makeClient(s, a.admin);
    await watcher.client.connect();
    await watcher.client.presence.subscribe([u.id]);
    const until = new Date(time.now() + 300_000).toISOString();
    const set = await c.client.presence.set({ manual: { availability: 'do_not_disturb', until } });
    assert.equal(set.availability, 'do_not_disturb');
    assert.equal(set.manualUntil, until);
    await watcher.waitPresence((p) => p.userId === u.id && p.availability === 'do_not_disturb');
    time.advance(299_000);
    await roundTrip(watcher);
    assert.equal(watcher.client.presence.get(u.id)?.availability, 'do_not_disturb', 'not before its time');
    time.advance(1_001);
    const after = await watcher.waitPresence((p) => p.userId === u.id && p.availability === 'available');
    assert.equal(after.manualUntil, null);
  });

  test('a reconnect within the grace does not flap the user Offline; a device gone for good goes Offline after it', async () => {
    const u = await makeUser(s, a.id, `grace@${a.domain}`);
    const c = makeClient(s, u, 'desk');
    await c.client.connect();
    await c.client.presence.publish({ availability: 'be_right_back' });
    const watcher = makeClient(s, a.admin);
    await watcher.client.connect();
    await watcher.client.presence.subscribe([u.id]);

    c.client.simulateNetworkDrop();
    await c.waitWelcome(2);
    await waitFor(
      () => (s.app.realtime.sessionsOf(u.id).size === 1 ? true : undefined),
      2000,
      'old socket gone',
    );
    time.advance(GRACE * 2);
    await roundTrip(watcher);
    const seen = watcher.presences.filter((p) => p.userId === u.id).map((p) => p.availability);
    assert.ok(!seen.includes('offline'), `watcher saw ${seen.join(', ')}`);
    assert.equal(watcher.client.presence.get(u.id)?.availability, 'be_right_back');

    // The network goes down for good: Offline once the grace has passed, not a millisecond before.
    c.network.up = false;
    c.client.simulateNetworkDrop();
    await waitFor(() => (s.app.realtime.sessionsOf(u.id).size === 0 ? true : undefined), 2000, 'socket gone');
    time.advance(GRACE - 1);
    await roundTrip(watcher);
    assert.equal(watcher.client.presence.get(u.id)?.availability, 'be_right_back', 'within the grace');
    time.advance(1);
    const off = await watcher.waitPresence((p) => p.userId === u.id && p.availability === 'offline');
    assert.equal(off.activity, 'none');
  });

  test('only watchers get a change: not the tenant, not other tenants', async () => {
    const u = await makeUser(s, a.id, `watched@${a.domain}`);
    const subject = makeClient(s, u);
    await subject.client.connect();
    const watcher = makeClient(s, a.admin);
    const bystander = makeClient(s, a.user); // same tenant, not watching
    const foreign = makeClient(s, b.user); // other tenant, tries to watch
    await Promise.all([watcher.client.connect(), bystander.client.connect(), foreign.client.connect()]);
    await watcher.client.presence.subscribe([u.id]);
    const refused = await foreign.client.presence.subscribe([u.id, b.admin.id]);
    assert.deepEqual(refused.refused, [{ userId: u.id, code: 'not_found' }]);
    assert.deepEqual(
      refused.presences.map((p) => p.userId),
      [b.admin.id],
    );

    await subject.client.presence.publish({ availability: 'busy' });
    await watcher.waitPresence((p) => p.userId === u.id && p.availability === 'busy');
    await Promise.all([roundTrip(bystander), roundTrip(foreign)]);
    assert.equal(bystander.presences.filter((p) => p.userId === u.id).length, 0);
    assert.equal(foreign.presences.filter((p) => p.userId === u.id).length, 0);
    assert.ok(foreign.presences.every((p) => p.userId === b.user.id || p.userId === b.admin.id));
    // The REST view has the same wall.
    assert.equal((await s.http.get(`/api/presence/${u.id}`, { token: b.user.token })).status, 404);
    assert.equal(
      ((await s.http.get(`/api/presence/${u.id}`, { token: a.user.token })).json as { availability: string })
        .availability,
      'busy',
    );
  });

  test('appear offline: watchers see Offline, the user sees their own choice', async () => {
    const u = await makeUser(s, a.id, `hidden@${a.domain}`);
    const me = makeClient(s, u);
    await me.client.connect();
    const watcher = makeClient(s, a.admin);
    await watcher.client.connect();
    const snap = await watcher.client.presence.subscribe([u.id]);
    assert.equal(snap.presences[0]!.availability, 'available');
    await me.client.presence.set({ manual: { availability: 'appear_offline', until: null } });
    const hidden = await watcher.waitPresence((p) => p.userId === u.id && p.availability === 'offline');
    const mine = await me.client.presence.mine();
    assert.equal(mine.presence.availability, 'offline');
    assert.deepEqual(mine.manual, { availability: 'appear_offline', until: null });
    await me.client.presence.set({ manual: null });
    await watcher.waitPresence(
      (p) =>
        p.userId === u.id &&
        p.availability === 'available' &&
        watcher.presences.indexOf(p) > watcher.presences.indexOf(hidden),
    );
  });

  test('after unsubscribing, changes stop', async () => {
    const u = await makeUser(s, a.id, `unsub@${a.domain}`);
    const subject = makeClient(s, u);
    await subject.client.connect();
    const watcher = makeClient(s, a.admin);
    await watcher.client.connect();
    await watcher.client.presence.subscribe([u.id]);
    await subject.client.presence.publish({ availability: 'busy' });
    await watcher.waitPresence((p) => p.userId === u.id && p.availability === 'busy');
    await watcher.client.presence.unsubscribe([u.id]);
    const n = watcher.presences.length;
    await subject.client.presence.publish({ availability: 'available' });
    await roundTrip(watcher);
    assert.equal(watcher.presences.length, n);
  });

  test('the presence table forgets users who left', async () => {
    await waitFor(() => (s.app.realtime.size === 0 ? true : undefined), 2000, 'connections to close');
    time.advance(GRACE);
    assert.equal(s.app.realtime.watchers.size, 0);
    assert.equal(s.app.presence.size, 0);
  });
});
