/**
 * Issue 17: issue 16's DTMF steps (tests/phones/dtmf-steps.ts) again on the rtpengine driver, with a
 * real daemon started here on free ports: a desk phone's digits reach the browser (rtpengine's
 * `--dtmf-log-dest` events become `call.dtmf`), and the keys pressed on the web Keypad reach the phone
 * as RFC 4733 telephone-events (rtpengine's `play DTMF`, into streams offered with `inject-DTMF`), in
 * both call directions. tests/phones/rtpengine.test.ts checks the audio around the key presses.
 */
import { after } from 'node:test';
import { dtmfTests } from './dtmf-steps.ts';
import { rtpengineSetup, type RtpengineSetup } from './rtpengine.ts';

let engine: RtpengineSetup | undefined;
after(async () => {
  await engine?.node.stop();
});

dtmfTests('rtpengine media driver', async () => {
  engine = await rtpengineSetup();
  return engine.settings;
});
