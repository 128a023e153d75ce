/**
 * G.722 between two desk phones (issue 17 item 2), as steps any media driver can run (like
 * dtmf-steps.ts): `g722Tests(o)` starts its own Parley with `o.settings()` (the driver's settings,
 * computed once the driver's daemon is up) and registers two tests, their names after `o.prefix`:
 * - Bob's phone (G722 first, then PCMU, PCMA) calls Carol's G.711-only phone: G.711 on both legs;
 * - Bob's phone calls Carol's G.722 phone: G.722 on both legs.
 * Each phone says which codec it encodes (baresip's `audio_debug`), and the audio goes both ways:
 * Carol hears Bob's energy, Bob hears Carol's tone. `o.whileUp` checks, once both phones' RTP is up,
 * where the driver put the media.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSession, demo, type Overrides } from '../web/harness.ts';
import { hear, SILENCE_DBFS } from './audio.ts';
import { startPhoneServer, TONE_HZ, type PhoneServer } from './parley.ts';
import type { Baresip } from './baresip.ts';

/** The codec a phone's audio encodes (baresip's `audio_debug` names it). */
async function encoding(phone: Baresip): Promise<string> {
  const text = await phone.command('audio_debug');
  return /G722/.test(text) ? 'G722' : /PCMU/.test(text) ? 'PCMU' : /PCMA/.test(text) ? 'PCMA' : text;
}

/** Bob's G.722 phone calls Carol's phone offering `carolCodecs`; resolves to what each encoded. */
async function call(
  server: PhoneServer,
  carolCodecs: string[],
  n: number,
  whileUp: (server: PhoneServer) => void,
): Promise<{ bob: string; carol: string }> {
  const alice = await apiSession(server.web, demo.alice);
  const carolId = await alice.idOf(demo.carol);
  await alice.call('PUT', `/api/users/${carolId}/extension`, { extension: '203' });
  const bob = await server.phone(`bob${n}`, {
    device: await server.addDevice(demo.bob, `bob-desk-${n}`),
    codecs: ['G722/16000/1', 'PCMU', 'PCMA'],
  });
  const carol = await server.phone(`carol${n}`, {
    device: await server.addDevice(demo.carol, `carol-desk-${n}`),
    codecs: carolCodecs,
    sound: 'tone',
  });
  try {
    await bob.waitFor('REGISTER_OK');
    await carol.waitFor('REGISTER_OK');
    await bob.dial(`sip:203@${server.domain}`);
    await carol.waitFor('CALL_INCOMING');
    await carol.accept();
    await bob.waitFor('CALL_RTPESTAB');
    await carol.waitFor('CALL_RTPESTAB');
    whileUp(server);
    await new Promise((r) => setTimeout(r, 1500));
    const codecs = { bob: await encoding(bob), carol: await encoding(carol) };
    await carol.hangup();
    await carol.waitFor('CALL_CLOSED');
    await bob.waitFor('CALL_CLOSED');
    const carolHeard = await hear(carol.recordings()[0]!.received, TONE_HZ);
    const bobHeard = await hear(bob.recordings()[0]!.received, TONE_HZ);
    assert.ok(
      carolHeard.loudestDbfs > SILENCE_DBFS,
      `Carol hears Bob (${carolHeard.loudestDbfs.toFixed(1)} dBFS)`,
    );
    assert.ok(bobHeard.toneAmplitude! > 0.2, `Bob hears Carol’s tone (${bobHeard.toneAmplitude})`);
    return codecs;
  } finally {
    await bob.stop();
    await carol.stop();
  }
}

/**
 * Registers the G.722 tests against a Parley started with `settings()` (called in `before`, so a
 * driver's daemon may be started first); `stop` runs after the server is closed.
 */
export function g722Tests(
  o: {
    prefix?: string;
    settings?: () => Overrides | Promise<Overrides>;
    stop?: () => Promise<void>;
    whileUp?: (server: PhoneServer) => void;
  } = {},
): void {
  const prefix = o.prefix ?? '';
  const whileUp = o.whileUp ?? (() => {});
  let server: PhoneServer;
  before(async () => {
    server = await startPhoneServer((await o.settings?.()) ?? {});
  });
  after(async () => {
    await server?.close();
    await o.stop?.();
  });

  test(`${prefix}a G.722 phone calls a G.711-only phone: G.711 on both legs, audio both ways`, async () => {
    assert.deepEqual(await call(server, ['PCMU', 'PCMA'], 2, whileUp), { bob: 'PCMU', carol: 'PCMU' });
  });

  test(`${prefix}two G.722 phones: G.722 on both legs, audio both ways`, async () => {
    assert.deepEqual(await call(server, ['G722/16000/1', 'PCMU', 'PCMA'], 3, whileUp), {
      bob: 'G722',
      carol: 'G722',
    });
  });
}
