/**
 * The same video call as calls.test.ts forced through TURN: Debian's coturn started on a free port of
 * 127.0.0.1 with coturn's REST credentials (`--use-auth-secret`), the server handing out credentials
 * from `PARLEY_TURN_SECRET` and `PARLEY_TURN_URLS`, and every browser set to `iceTransportPolicy:
 * 'relay'`. While connected, each side's selected candidate pair is a relay candidate, which proves
 * the media went through coturn (no host path is allowed under that policy).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchBrowser, mediaArgs, startWebServer, type WebServer } from './harness.ts';
import { startTurnServer, type TurnServer } from './turn-server.ts';
import { mediaStats, videoCallScenario } from './call-steps.ts';

let turn: TurnServer;
let server: WebServer;
let aliceBrowser: Browser;
let bobBrowser: Browser;

before(async () => {
  turn = await startTurnServer();
  // The settings PARLEY_TURN_SECRET and PARLEY_TURN_URLS.
  server = await startWebServer({ turnSecret: turn.secret, turnUrls: turn.urls.join(',') });
  aliceBrowser = await launchBrowser(mediaArgs);
  bobBrowser = await launchBrowser(mediaArgs);
});
after(async () => {
  await aliceBrowser?.close();
  await bobBrowser?.close();
  await server?.close();
  await turn?.stop();
});

test('the video call through TURN: both sides use relay candidates', async () => {
  await videoCallScenario(
    server,
    { alice: aliceBrowser, bob: bobBrowser },
    {
      relay: true,
      group: 'calls-turn',
      whileConnected: async (alice, bob) => {
        for (const [who, page] of [
          ['Alice', alice],
          ['Bob', bob],
        ] as const) {
          const s = await mediaStats(page);
          const tail = turn.log().slice(-400);
          assert.equal(s?.localType, 'relay', `${who}'s local candidate is a relay (coturn: ${tail})`);
          assert.equal(s?.remoteType, 'relay', `${who}'s remote candidate is a relay`);
        }
      },
    },
  );
});
