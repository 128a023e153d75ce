/**
 * The echo test from Chromium (fake microphone): Alice presses "Test my audio" on her calls screen, the
 * call to Parley Echo connects, the prompt's energy arrives (above silence), then a quiet gap while the
 * server records (`PARLEY_ECHO_RECORD_SECONDS`, 2 here), then her own microphone's sound comes back
 * (energy again, after the recording window), and the echo hangs up by itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { demo, launchBrowser, mediaArgs, startWebServer, type WebServer } from './harness.ts';
import { mediaStats, openCallPage } from './call-steps.ts';

const RECORD_SECONDS = 2;
let server: WebServer;
let browser: Browser;

before(async () => {
  server = await startWebServer({ echoRecordSeconds: RECORD_SECONDS });
  browser = await launchBrowser(mediaArgs);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('Test my audio: the prompt is heard, then after the recording window what the browser sent', async () => {
  const { context, page } = await openCallPage(browser, server, demo.alice);
  try {
    await page.goto(`${server.url}/calls`);
    await page.getByRole('button', { name: 'Test my audio' }).click();
    const region = page.getByRole('region', { name: 'Call with Parley Echo' });
    await region.waitFor();
    // Energy per 200 ms step, until the echo hangs up (the in-call view goes).
    const steps: Array<{ at: number; energy: number }> = [];
    let last = 0;
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline && (await region.count()) > 0) {
      const s = await mediaStats(page).catch(() => null);
      if (s) {
        steps.push({ at: Date.now(), energy: s.audioEnergy - last });
        last = s.audioEnergy;
      }
      await page.waitForTimeout(200);
    }
    assert.equal(await region.count(), 0, 'the echo hung up by itself');
    const loud = (e: number) => e > 1e-4;
    const first = steps.findIndex((s) => loud(s.energy));
    assert.ok(first >= 0, `the prompt's energy arrived (${JSON.stringify(steps.map((s) => s.energy))})`);
    // The recording window: the longest quiet run after the prompt started.
    let best = { from: -1, to: -1 };
    for (let i = first, from = -1; i < steps.length; i++) {
      if (!loud(steps[i]!.energy)) {
        if (from < 0) from = i;
        if (best.from < 0 || steps[i]!.at - steps[from]!.at > steps[best.to]!.at - steps[best.from]!.at)
          best = { from, to: i };
      } else from = -1;
    }
    assert.ok(best.from > first, 'a quiet recording window after the prompt');
    const quietMs = steps[best.to]!.at - steps[best.from]!.at;
    assert.ok(quietMs >= RECORD_SECONDS * 1000 - 800, `quiet for ${quietMs} ms while recording`);
    // The playback is the recording window's length; the closing prompt starts 300 ms after it, so
    // sound in the first 1.8 s after the window is what the browser sent, played back.
    const end = steps[best.to]!.at;
    const played = steps.filter((s) => s.at > end && s.at <= end + 1800);
    const back = played.filter((s) => loud(s.energy)).length;
    assert.ok(
      back >= 3,
      `the browser's own sound came back after the window (${JSON.stringify(played.map((s) => s.energy))})`,
    );
  } finally {
    await context.close();
  }
});
