/** What a user sets by hand survives a restart; devices' states do not (they reconnect). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Presence } from '@parley/protocol';
import { makeTenant, startServer } from '../helpers/server.ts';
import { closeClients, makeClient, waitFor } from '../realtime/clients.ts';
import { advancingTime } from '../helpers/fake-time.ts';

test('status note, out-of-office message and manual state are kept across a restart; expired ones are not', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-presence-'));
  // One clock across the restarts, as the wall clock would be.
  const time = advancingTime();
  let s = await startServer('sqlite', { dataDir }, { presenceTime: time });
  try {
    const t = await makeTenant(s, 'persist');
    const c = makeClient(s, t.user);
    await c.client.connect();
    const inAnHour = new Date(time.now() + 3_600_000).toISOString();
    await c.client.presence.set({
      manual: { availability: 'busy', until: inAnHour },
      note: { text: 'Quarter close: urgent only', until: new Date(time.now() + 60_000).toISOString() },
      outOfOffice: { message: 'On leave until the 12th', until: null },
    });
    time.advance(120_000); // the note expires; the others stay
    closeClients();
    await s.app.close();

    s = await startServer('sqlite', { dataDir }, { presenceTime: time });
    const offline = (await s.http.get(`/api/presence/${t.user.id}`, { token: t.admin.token }))
      .json as Presence;
    assert.equal(offline.availability, 'offline', 'no device yet');
    assert.equal(offline.outOfOffice?.message, 'On leave until the 12th');
    assert.equal(offline.note, null);
    const again = makeClient(s, t.user);
    await again.client.connect();
    const online = await waitFor(
      () => {
        const p = again.client.presence.get(t.user.id);
        return p?.availability === 'busy' ? p : undefined;
      },
      2000,
      'busy again',
    );
    assert.equal(online.manualUntil, inAnHour);
    // Without a socket, over REST (a calendar integration, a bot).
    const put = await s.http.request(
      'PUT',
      '/api/me/presence',
      { manual: null, outOfOffice: null },
      { token: t.user.token },
    );
    assert.equal(put.status, 200, put.text);
    assert.equal((put.json as { presence: Presence }).presence.availability, 'available');
    const bad = await s.http.request(
      'PUT',
      '/api/me/presence',
      { manual: { availability: 'asleep' } },
      { token: t.user.token },
    );
    assert.equal(bad.status, 400);
    closeClients();
    await s.app.close();
    s = await startServer('sqlite', { dataDir }, { presenceTime: time });
    const cleared = (await s.http.get(`/api/presence/${t.user.id}`, { token: t.admin.token }))
      .json as Presence;
    assert.deepEqual([cleared.outOfOffice, cleared.manualUntil], [null, null]);
  } finally {
    closeClients();
    await s.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
