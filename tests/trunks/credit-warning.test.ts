/**
 * Issue 20 item 3, the warning before a cut: Alice's baresip desk phone sends a steady 600 Hz tone to
 * a number through a SIPp carrier that answers, echoes the media (`-rtp_echo`) and holds the call until
 * Parley's BYE (uas-answer-until-bye.xml). Pay as you go, 0.05 of credit at 0.12 a minute in 1 s
 * increments: a 25 s grant; 10 s slices renewed 5 s before their end, so the last one is refused
 * before the warning is due, `PARLEY_BILLING_CUT_WARNING` 4 s. What the phone recorded of what it
 * heard shows her own echo all along, three 1400 Hz beeps about 4 s before the cut and none before;
 * the call is cut about 25 s after the answer and the carrier got our BYE.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { App } from '../../packages/server/src/app.ts';
import { trustedScope } from '../../packages/server/src/directory/scope.ts';
import { demo } from '../web/harness.ts';
import { startPhoneServer, TONE_HZ, type PhoneServer } from '../phones/parley.ts';
import { toneOverTime } from '../phones/audio.ts';
import { until } from '../phones/until.ts';
import { assertCarrierPassed, setUpTrunk, startCarrier, stopAll } from './sipp-carrier.ts';
import { completeRecord } from './outbound-steps.ts';

const WARNING_HZ = 1400;
const WARN_BEFORE = 4;
/** The windows the recording is cut into: shorter than a beep (200 ms) and than a gap between two. */
const WINDOW = 0.05;

let server: PhoneServer | undefined;
before(async () => {
  server = await startPhoneServer({
    billingSliceSeconds: 10,
    billingRenewBefore: 5,
    billingKeepalive: 2,
    billingReservationGrace: 10,
    billingCutWarning: WARN_BEFORE,
  });
});
after(async () => {
  stopAll();
  await server?.close();
});

/** Contoso pays as it goes: `micros` of credit, every GB number at 0.12 a minute in 1 s increments. */
async function priceAndBalance(app: App, micros: number): Promise<void> {
  const tenant = (await app.directory.findTenantByDomain('contoso.example'))!;
  const scope = trustedScope(tenant.id);
  const deck = await app.billing.decks.createDeck({ name: '0.12 a minute', kind: 'sell' });
  await app.billing.decks.importVersion(
    deck.id,
    'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment\n44,United Kingdom,domestic,0.12,0,1,1',
    0,
  );
  await app.billing.decks.refresh(); // the new deck prices the next call
  await app.billing.wallet.setOptions(scope, { sellDeckId: deck.id });
  const w = await app.billing.wallet.view(scope);
  await app.billing.wallet.adjust(scope, micros - w.balance, 'credit warning test');
}

/** The runs of consecutive windows in which `amplitudes` are above `level`: [first, last] indices. */
function runsAbove(amplitudes: number[], level: number): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  amplitudes.forEach((a, i) => {
    if (a <= level) return;
    const last = runs.at(-1);
    if (last && last[1] === i - 1) last[1] = i;
    else runs.push([i, i]);
  });
  return runs;
}

const max = (xs: number[]) => xs.reduce((m, x) => Math.max(m, x), 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

test('credit running out: the desk phone hears three 1400 Hz beeps 4 s before the cut, none before; cut at the 25 s grant with a BYE to the carrier', async () => {
  const s = server!;
  const app = s.web.app;
  const carrier = await startCarrier('uas-answer-until-bye.xml', { pauseMs: 300, timeoutMs: 60_000 });
  await setUpTrunk(app, carrier.port);
  await priceAndBalance(app, 50_000);
  const phone = await s.phone('alice-warn', {
    device: await s.addDevice(demo.alice, 'alice-warn'),
    sound: 'tone',
  });
  await phone.waitFor('REGISTER_OK');
  await phone.dial(`sip:02079460999@${s.domain}`);
  await phone.waitFor('CALL_ESTABLISHED', () => true, 15_000);
  const answeredAt = Date.now();
  await phone.waitFor('CALL_CLOSED', () => true, 40_000);
  const cutAfter = Date.now() - answeredAt;
  assert.ok(
    cutAfter > 23_000 && cutAfter < 28_000,
    `the phone's call ended about 25 s after the answer (${cutAfter} ms)`,
  );
  assertCarrierPassed(await carrier.done); // our BYE came
  const r = await completeRecord({ server: s });
  const seconds = (Number(r.ended_at) - Number(r.answered_at)) / 1000;
  assert.ok(seconds > 24 && seconds < 26.5, `the call record lasted about 25 s (${seconds} s)`);

  // What the phone heard, window by window (the recording is complete once the call closed).
  const file = phone.recordings()[0]?.received;
  assert.ok(file, 'the phone recorded the call');
  const beeps = await until(
    'the recording is written',
    () => toneOverTime(file, WARNING_HZ, WINDOW).catch(() => [] as number[]),
    (a) => a.length * WINDOW > 20,
  );
  const echo = await toneOverTime(file, TONE_HZ, WINDOW);
  const heard = beeps.length * WINDOW;
  const loud = max(beeps);
  assert.ok(loud > 0.05, `the phone hears ${WARNING_HZ} Hz at some point (${loud.toFixed(3)})`);
  const runs = runsAbove(beeps, loud / 2);
  assert.equal(
    runs.length,
    3,
    `three beeps (windows of ${WINDOW} s above half the loudest: ${JSON.stringify(runs)})`,
  );
  for (const [a, b] of runs) {
    const ms = (b - a + 1) * WINDOW * 1000;
    assert.ok(ms >= 100 && ms <= 300, `each beep lasts about 200 ms (${ms} ms)`);
  }
  const firstBeep = runs[0]![0] * WINDOW;
  const lastBeep = (runs[2]![1] + 1) * WINDOW;
  assert.ok(lastBeep - firstBeep < 1.3, `the beeps take about 1 s (${(lastBeep - firstBeep).toFixed(2)} s)`);
  const beforeCut = heard - firstBeep;
  assert.ok(
    beforeCut > WARN_BEFORE - 1.5 && beforeCut < WARN_BEFORE + 1,
    `the beeps start about ${WARN_BEFORE} s before the cut (${beforeCut.toFixed(2)} s of ${heard.toFixed(2)} s heard)`,
  );

  // Before the warning she hears her own echo and no beep; after it, her echo again until the cut.
  const earlier = Math.floor((firstBeep - 0.5) / WINDOW);
  const quiet = max(beeps.slice(0, earlier));
  assert.ok(
    quiet < loud / 10,
    `no ${WARNING_HZ} Hz before the warning (${quiet.toFixed(4)} vs ${loud.toFixed(3)})`,
  );
  const echoBefore = median(echo.slice(0, earlier));
  assert.ok(
    echoBefore > 0.1,
    `before the warning she hears her ${TONE_HZ} Hz echo (${echoBefore.toFixed(3)})`,
  );
  const echoAfter = median(echo.slice(Math.ceil((lastBeep + 0.3) / WINDOW)));
  assert.ok(echoAfter > 0.1, `after the beeps her echo is back until the cut (${echoAfter.toFixed(3)})`);
});
