/**
 * Resume: a client that loses its connection gets, on reconnecting within the window, every durable
 * event it missed, in order and never twice; presence comes back as a fresh snapshot. Past the window
 * (or too many missed) the server says `expired` and the REST API has the history.
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  engines,
  makeTenant,
  makeUser,
  startServer,
  type TestServer,
  type TenantFixture,
} from '../helpers/server.ts';
import { closeClients, makeClient, sleep, waitFor } from './clients.ts';
import { trustedScope } from '../../src/directory/scope.ts';

const notice = (s: TestServer, admin: { token: string }, userId: string, text: string) =>
  s.http.post(`/api/users/${userId}/notices`, { text }, { token: admin.token }).then((r) => {
    assert.equal(r.status, 201, r.text);
    return (r.json as { seq: number }).seq;
  });

const consecutive = (seqs: number[]) => seqs.every((x, i) => i === 0 || x === seqs[i - 1]! + 1);

for (const engine of engines) {
  describe(`resume (${engine})`, () => {
    let s: TestServer;
    let t: TenantFixture;
    before(async () => {
      s = await startServer(engine, { presenceGraceMs: 2000 });
      t = await makeTenant(s, 'resume');
    });
    afterEach(() => closeClients());
    after(() => s.close());

    test('durable events arrive live, then the missed ones after a reconnect, in order, none twice; presence is a fresh snapshot', async () => {
      const u = await makeUser(s, t.id, `resumer@${t.domain}`);
      const friend = await makeUser(s, t.id, `friend@${t.domain}`);
      const friendClient = makeClient(s, friend);
      await friendClient.client.connect();
      const c = makeClient(s, u, 'laptop');
      const w1 = await c.client.connect();
      assert.equal(w1.resume, 'fresh');
      await c.client.presence.subscribe([friend.id]);

      await notice(s, t.admin, u.id, 'one');
      await notice(s, t.admin, u.id, 'two');
      await c.waitEvents(2);

      // The network goes down; meanwhile three notices, a contact change and a presence change happen.
      c.network.up = false;
      c.client.simulateNetworkDrop();
      await waitFor(() => (c.client.state === 'resuming' ? true : undefined), 2000, 'resuming');
      for (const text of ['three', 'four', 'five']) await notice(s, t.admin, u.id, text);
      const put = await s.http.request(
        'PUT',
        `/api/contacts/${friend.id}`,
        { favourite: true },
        { token: u.token },
      );
      assert.equal(put.status, 200, put.text);
      await friendClient.client.presence.set({ manual: { availability: 'be_right_back', until: null } });
      assert.equal(c.client.presence.get(friend.id)?.availability, 'available'); // stale while away

      c.network.up = true;
      const w2 = await c.waitWelcome(2);
      assert.equal(w2.resume, 'resumed');
      await c.waitEvents(6);
      await sleep(100);
      const seqs = c.events.map((e) => e.seq);
      assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(
        c.events.map((e) => e.data.text ?? e.kind),
        ['one', 'two', 'three', 'four', 'five', 'contacts.changed'],
      );
      await waitFor(() => (c.client.state === 'open' ? true : undefined), 2000, 'open');
      assert.equal(c.client.presence.get(friend.id)?.availability, 'be_right_back');
      assert.ok(c.presences.some((p) => p.userId === friend.id && p.availability === 'be_right_back'));

      // And live delivery continues after the resume, still without repeats.
      await notice(s, t.admin, u.id, 'six');
      await c.waitEvents(7);
      assert.equal(c.events[6]!.seq, 7);
    });

    test('events appended while the client reconnects (during the replay) are neither lost nor repeated', async () => {
      const u = await makeUser(s, t.id, `racer@${t.domain}`);
      const c = makeClient(s, u, 'phone');
      await c.client.connect();
      let sent = 0;
      for (let round = 0; round < 3; round++) {
        c.network.up = false;
        c.client.simulateNetworkDrop();
        for (let i = 0; i < 5; i++) await notice(s, t.admin, u.id, `missed ${round}.${i}`);
        sent += 5;
        c.network.up = true;
        // Keep appending while the reconnection and replay happen.
        const during = Promise.all(
          Array.from({ length: 10 }, (_, i) => notice(s, t.admin, u.id, `during ${round}.${i}`)),
        );
        await during;
        sent += 10;
        await c.waitEvents(sent, 5000);
      }
      await sleep(100);
      const seqs = c.events.map((e) => e.seq);
      assert.equal(seqs.length, sent);
      assert.ok(consecutive(seqs) && seqs[0] === 1, `seqs ${seqs.join(',')}`);
    });

    test('two devices of one user each get every event once', async () => {
      const u = await makeUser(s, t.id, `twodev@${t.domain}`);
      const d1 = makeClient(s, u, 'd1');
      const d2 = makeClient(s, u, 'd2');
      await d1.client.connect();
      await d2.client.connect();
      await Promise.all(Array.from({ length: 8 }, (_, i) => notice(s, t.admin, u.id, `n${i}`)));
      await d1.waitEvents(8);
      await d2.waitEvents(8);
      await sleep(50);
      assert.deepEqual(
        d1.events.map((e) => e.seq),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      assert.deepEqual(
        d2.events.map((e) => e.seq),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
    });

    test('one event appended to several users lands in each log under their own next seq, and reaches each', async () => {
      const users = await Promise.all([1, 2, 3].map((i) => makeUser(s, t.id, `member${i}@${t.domain}`)));
      const clients = users.map((u) => makeClient(s, u));
      await Promise.all(clients.map((c) => c.client.connect()));
      await notice(s, t.admin, users[1]!.id, 'only for member 2');
      const ids = users.map((u) => u.id);
      const events = await s.app.events.appendToMany(trustedScope(t.id), ids, 'notice', {
        text: 'to all',
        from: null,
      });
      assert.deepEqual(
        ids.map((id) => events.get(id)!.seq),
        [1, 2, 1],
      );
      for (const [i, c] of clients.entries()) {
        const got = await c.waitEvents(i === 1 ? 2 : 1);
        assert.equal(got.at(-1)!.data.text, 'to all');
      }
    });

    test("another user's events never reach this user", async () => {
      const u = await makeUser(s, t.id, `mine@${t.domain}`);
      const other = await makeUser(s, t.id, `theirs@${t.domain}`);
      const c = makeClient(s, u);
      await c.client.connect();
      await notice(s, t.admin, other.id, 'not for you');
      await notice(s, t.admin, u.id, 'for you');
      await c.waitEvents(1);
      await sleep(50);
      assert.deepEqual(
        c.events.map((e) => e.data.text),
        ['for you'],
      );
    });
  });
}

describe('resume limits', () => {
  let s: TestServer;
  let t: TenantFixture;
  before(async () => {
    s = await startServer('sqlite', { realtimeResumeMaxEvents: 3 });
    t = await makeTenant(s, 'expire');
  });
  afterEach(() => closeClients());
  after(() => s.close());

  test('too many missed events: the resume is refused as expired and the REST API serves the history', async () => {
    const c = makeClient(s, t.user);
    const gaps: Array<{ after: number; upTo: number }> = [];
    c.client.on('gap', (g) => gaps.push(g));
    await c.client.connect();
    await notice(s, t.admin, t.user.id, 'seen');
    await c.waitEvents(1);
    c.network.up = false;
    c.client.simulateNetworkDrop();
    for (let i = 0; i < 5; i++) await notice(s, t.admin, t.user.id, `missed ${i}`);
    c.network.up = true;
    const w = await c.waitWelcome(2);
    assert.equal(w.resume, 'expired');
    assert.equal(w.lastSeq, 6);
    await sleep(100);
    assert.equal(c.events.length, 1, 'nothing replayed over the socket');
    assert.deepEqual(gaps, [{ after: 1, upTo: 6 }]);
    const page = await c.client.eventsAfter(gaps[0]!.after);
    assert.deepEqual(
      page.events.map((e) => e.seq),
      [2, 3, 4, 5, 6],
    );
    assert.equal(page.lastSeq, 6);
    // Live delivery continues from the head.
    await notice(s, t.admin, t.user.id, 'after');
    await c.waitEvents(2);
    assert.equal(c.events[1]!.seq, 7);
  });

  test('pruned events are gone from the history but their numbers are never reused', async () => {
    const u = await makeUser(s, t.id, `pruned@${t.domain}`);
    await notice(s, t.admin, u.id, 'old');
    await notice(s, t.admin, u.id, 'older');
    assert.ok((await s.app.events.prune(Date.now() + 1)) >= 2);
    assert.equal(await notice(s, t.admin, u.id, 'new'), 3);
    const page = (await s.http.get('/api/me/events?after=0', { token: u.token })).json as {
      events: Array<{ seq: number }>;
      lastSeq: number;
    };
    assert.deepEqual(
      page.events.map((e) => e.seq),
      [3],
    );
    assert.equal(page.lastSeq, 3);
  });
});
