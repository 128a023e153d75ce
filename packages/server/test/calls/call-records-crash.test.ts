/**
 * Call records across failures, on both engines:
 * - a record's end and its users' events commit together: with event writes refused (a trigger in the
 *   real database), `ended` fails and leaves the record open and no event; once repaired, it ends with
 *   its events exactly once;
 * - crash closing: while calls are open their last-alive time moves with the (injected) clock; a
 *   server that stops without ending them leaves them open, and the next start closes each at its
 *   last-alive time as `failed`, never longer than the call was, with the users' events.
 * (The kill -9 of a real server process mid-call is in call-kill.test.ts.)
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refuseEventWrites } from '../helpers/refuse-events.ts';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { Http } from '../helpers/http.ts';
import { createPgDatabase } from '../helpers/pg.ts';
import { advancingTime, type FakeTime } from '../helpers/fake-time.ts';
import { engines, makeTenant, makeUser, startServer, type TestServer } from '../helpers/server.ts';
import { eventsOf, historyOf, placed } from './call-helpers.ts';

for (const engine of engines) {
  describe(`a call record's end commits with its events (${engine})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(() => s.close());

    test('refused event writes leave the call open and unannounced; a retry ends it once', async () => {
      const t = await makeTenant(s, 'atomiccalls');
      const alice = await makeUser(s, t.id, `alice@${t.domain}`);
      const bob = await makeUser(s, t.id, `bob@${t.domain}`);
      const call = placed(t.id, alice, bob, Date.now());
      await s.app.callRecords.opened(call);
      await s.app.callRecords.ringing(call.callId, call.at + 100, ['bob-phone']);
      const repair = await refuseEventWrites(s.app.storage);
      await assert.rejects(
        s.app.callRecords.ended(call.callId, call.at + 30_000, 'no_answer', null),
        /injected failure/,
      );
      const open = await s.app.storage.db
        .selectFrom('call_records')
        .select(['ended_at', 'missed'])
        .where('call_id', '=', call.callId)
        .executeTakeFirstOrThrow();
      assert.equal(open.ended_at, null, 'the record is still open');
      assert.equal(open.missed, 0);
      assert.equal((await historyOf(s, bob)).unseenMissed, 0);

      await repair();
      await s.app.callRecords.ended(call.callId, call.at + 30_000, 'no_answer', null);
      await s.app.callRecords.ended(call.callId, call.at + 31_000, 'failed', null); // a late repeat: no-op
      assert.deepEqual(
        (await eventsOf(s, bob)).map((e) => e.kind),
        ['call.missed', 'call.ended'],
      );
      assert.deepEqual(
        (await eventsOf(s, alice)).map((e) => e.kind),
        ['call.ended'],
      );
      const h = await historyOf(s, bob);
      assert.equal(h.unseenMissed, 1);
      assert.equal(h.calls[0]!.endReason, 'no_answer');
    });
  });

  describe(`crash closing (${engine})`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-callrec-'));
    let databaseUrl: string | undefined;
    let drop: (() => Promise<void>) | undefined;
    let app: App | undefined;
    const boot = async (time: FakeTime) => {
      const config = loadConfig(
        {},
        {
          port: 0,
          sipPort: 0,
          sipTlsPort: -1,
          host: '127.0.0.1',
          dataDir,
          logLevel: 'silent',
          databaseUrl,
          callRecordAliveMs: 5_000,
        },
      );
      app = await createApp(config, { callRecordTime: time });
      await app.listen();
      return { app, http: new Http(`http://127.0.0.1:${app.config.port}`) };
    };
    before(async () => {
      if (engine === 'postgres') {
        const db = await createPgDatabase();
        databaseUrl = db.url;
        drop = db.drop;
      }
    });
    after(async () => {
      await app?.close();
      await drop?.();
      rmSync(dataDir, { recursive: true, force: true });
    });

    test('open records are kept alive, and closed at their last-alive time by the next start', async () => {
      const time = advancingTime();
      const first = await boot(time);
      const s = first as unknown as TestServer;
      const t = await makeTenant(s, 'crash');
      const alice = await makeUser(s, t.id, `alice@${t.domain}`);
      const bob = await makeUser(s, t.id, `bob@${t.domain}`);
      const carol = await makeUser(s, t.id, `carol@${t.domain}`);
      const rec = first.app.callRecords;
      const talking = placed(t.id, alice, bob, time.now());
      await rec.opened(talking);
      await rec.ringing(talking.callId, talking.at + 100, ['bob-phone']);
      const answeredAt = talking.at + 1_500;
      await rec.answered(talking.callId, answeredAt, 'bob-phone');
      const ringing = placed(t.id, carol, bob, time.now());
      await rec.opened(ringing);
      await rec.ringing(ringing.callId, ringing.at + 50, ['bob-phone']);
      const done = placed(t.id, carol, alice, time.now());
      await rec.opened(done);
      await rec.ended(done.callId, done.at + 10, 'cancelled', carol.id);
      const aliveOf = async (id: string) =>
        Number(
          (
            await first.app.storage.db
              .selectFrom('call_records')
              .select('alive_at')
              .where('call_id', '=', id)
              .executeTakeFirstOrThrow()
          ).alive_at,
        );
      const doneAlive = await aliveOf(done.callId);

      // Three refreshes, 5 s apart on the injected clock: both open calls move together each time.
      let lastAlive = 0;
      for (let i = 0; i < 3; i++) {
        time.advance(5_000);
        await rec.flush();
        lastAlive = await aliveOf(talking.callId);
        assert.ok(lastAlive >= answeredAt + i * 5_000, `refresh ${i + 1} moved the open call`);
        assert.equal(await aliveOf(ringing.callId), lastAlive, 'every open record in the one UPDATE');
      }
      assert.equal(await aliveOf(done.callId), doneAlive, 'an ended record is left alone');

      // The server goes away without ending its calls (as a crash would leave them: open).
      time.advance(4_000); // the call went on for up to 4 s more, unrecorded
      await first.app.close();
      app = undefined;

      const second = await boot(advancingTime());
      const s2 = second as unknown as TestServer;
      const rows = await second.app.storage.db
        .selectFrom('call_records')
        .selectAll()
        .where('call_id', 'in', [talking.callId, ringing.callId])
        .orderBy('placed_at')
        .execute();
      for (const r of rows) {
        assert.equal(Number(r.ended_at), lastAlive, 'ended at its last-alive time');
        assert.equal(r.end_reason, 'failed');
        assert.equal(r.ended_by, null);
      }
      assert.deepEqual(
        rows.map((r) => r.disposition),
        ['answered', 'failed'],
      );
      // Access tokens outlive the restart (sessions and the signing key are stored).
      const h = await historyOf(s2, bob);
      const talked = h.calls.find((c) => c.callId === talking.callId)!;
      const trueSeconds = (time.now() - answeredAt) / 1000;
      assert.equal(talked.durationSeconds, Math.floor((lastAlive - answeredAt) / 1000));
      assert.ok(talked.durationSeconds <= trueSeconds, 'never longer than the call was');
      assert.ok(
        talked.durationSeconds >= trueSeconds - 6,
        'at most one refresh interval (and the rounding down) shorter',
      );
      assert.equal(talked.endReason, 'failed');
      assert.equal(h.calls.find((c) => c.callId === ringing.callId)!.disposition, 'failed');
      assert.equal(h.unseenMissed, 0, 'a call the server lost is not a missed call');
      assert.deepEqual(
        (await eventsOf(s2, bob, 'call.ended')).map((e) => [e.data.callId, e.data.disposition]).sort(),
        [
          [talking.callId, 'answered'],
          [ringing.callId, 'failed'],
        ].sort(),
      );
      assert.equal((await eventsOf(s2, alice, 'call.ended')).length, 2, 'alice: talking and done');

      // A third start finds nothing left to close.
      assert.equal(await second.app.callRecords.closeOrphans(), 0);
    });
  });
}
