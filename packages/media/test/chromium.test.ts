/**
 * Debian's Chromium (fake microphone, the beep it plays) calls the endpoint as the web app will: its
 * offer (Opus with RED, G.722, PCMU, PCMA, CN, telephone-event, header extensions) is answered,
 * ICE and DTLS-SRTP connect over loopback, the endpoint's tone reaches the browser
 * (`totalAudioEnergy` grows on its inbound-rtp) and the browser's beep reaches the recorder.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'node:test';
import { chromium } from 'playwright-core';
import { playTone, Recorder, rmsDbfs, WebRtcEndpoint, type CodecName } from '../src/index.ts';

const ARGS = [
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--disable-gpu',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

type Page = Awaited<ReturnType<Awaited<ReturnType<typeof chromium.launch>>['newPage']>>;

/** The browser's inbound audio energy so far (the sum of squared sample levels times seconds). */
function inboundEnergy(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const stats = await (globalThis as unknown as { pc: RTCPeerConnection }).pc.getStats();
    let e = 0;
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') e = s.totalAudioEnergy ?? 0;
    });
    return e;
  });
}

test('Chromium calls the endpoint: audio both ways with Opus and with PCMU', async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
  const endpoint = new WebRtcEndpoint({ address: '127.0.0.1' });
  // getUserMedia needs a secure context: a page from http://127.0.0.1 is one, about:blank is not.
  const http = createServer((_, res) => res.end('<!doctype html><title>media</title>'));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
  try {
    for (const codec of ['OPUS', 'PCMU'] as CodecName[]) {
      const page = await browser.newPage();
      await page.goto(url);
      const offer = await page.evaluate(async () => {
        const pc = new RTCPeerConnection();
        (globalThis as unknown as { pc: RTCPeerConnection }).pc = pc;
        const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
        pc.addTrack(mic.getAudioTracks()[0]!, mic);
        pc.ontrack = (e) => {
          const audio = new Audio();
          audio.srcObject = e.streams[0] ?? new MediaStream([e.track]);
          void audio.play();
        };
        await pc.setLocalDescription(await pc.createOffer());
        await new Promise<void>((resolve) => {
          if (pc.iceGatheringState === 'complete') resolve();
          pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
        });
        return pc.localDescription!.sdp;
      });
      const { session, answer } = await endpoint.answer(offer, { codecs: [codec] });
      assert.equal(session.codec.name, codec);
      await page.evaluate(async (sdp) => {
        await (globalThis as unknown as { pc: RTCPeerConnection }).pc.setRemoteDescription({
          type: 'answer',
          sdp,
        });
      }, answer);
      await session.untilConnected();
      const energy = () => inboundEnergy(page);
      // First a second of the endpoint's idle silence, then two seconds of its tone.
      const recorder = new Recorder(session, { maxDurationMs: 3000 });
      await new Promise((r) => setTimeout(r, 1000));
      const quiet = await energy();
      await playTone(session.output, { frequencies: [440], durationMs: 2000 }).done;
      await new Promise((r) => setTimeout(r, 200)); // the browser's jitter buffer
      const loud = (await energy()) - quiet;
      console.log(
        `${codec}: browser inbound energy ${quiet.toFixed(4)} in silence, +${loud.toFixed(4)} over the tone`,
      );
      // A -12 dBFS tone (RMS 0.18) for 2 s adds about 0.06 (level squared times seconds).
      assert.ok(quiet < 0.001, `${codec}: energy ${quiet} while the endpoint sends silence`);
      assert.ok(loud > 0.03, `${codec}: the tone added ${loud} to the browser's totalAudioEnergy`);
      // Chromium's fake microphone beeps (a short tone every second): there is sound in three seconds.
      const rec = await recorder.done;
      assert.ok(
        rec.heardSound && rmsDbfs(rec.samples) > -50,
        `recorded level ${rmsDbfs(rec.samples).toFixed(1)} dBFS`,
      );
      await session.close();
      await page.close();
    }
  } finally {
    await endpoint.close();
    await browser.close();
    await new Promise((r) => http.close(r));
  }
});

test("Chromium restarts ICE mid-call: the endpoint's tone still reaches it over the new pair", async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
  const endpoint = new WebRtcEndpoint({ address: '127.0.0.1' });
  const http = createServer((_, res) => res.end('<!doctype html><title>media</title>'));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(http.address() as AddressInfo).port}/`);
    /** Makes an offer (a restart's when asked) with every candidate in it, as the first one. */
    const offer = (iceRestart: boolean) =>
      page.evaluate(async (restart) => {
        const g = globalThis as unknown as { pc: RTCPeerConnection };
        if (!g.pc) {
          g.pc = new RTCPeerConnection();
          const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
          g.pc.addTrack(mic.getAudioTracks()[0]!, mic);
          g.pc.ontrack = (e) => {
            const audio = new Audio();
            audio.srcObject = e.streams[0] ?? new MediaStream([e.track]);
            void audio.play();
          };
        }
        const pc = g.pc;
        const gathered = new Promise<void>((resolve) => {
          pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
        });
        await pc.setLocalDescription(await pc.createOffer({ iceRestart: restart }));
        if (pc.iceGatheringState !== 'complete') await gathered;
        return pc.localDescription!.sdp;
      }, iceRestart);
    const accept = (sdp: string) =>
      page.evaluate(async (answer) => {
        const pc = (globalThis as unknown as { pc: RTCPeerConnection }).pc;
        await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      }, sdp);
    const ufrag = (sdp: string) => /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];

    const first = await offer(false);
    const { session, answer } = await endpoint.answer(first);
    await accept(answer);
    await session.untilConnected();
    const restart = await offer(true);
    assert.notEqual(ufrag(restart), ufrag(first), "the browser's offer restarts ICE");
    await accept(await session.renegotiate(restart));
    const before = await inboundEnergy(page);
    await playTone(session.output, { frequencies: [440], durationMs: 2000 }).done;
    await new Promise((r) => setTimeout(r, 200)); // the browser's jitter buffer
    const loud = (await inboundEnergy(page)) - before;
    console.log(`after the ICE restart: +${loud.toFixed(4)} browser inbound energy over the tone`);
    assert.ok(loud > 0.03, `the tone after the restart added ${loud} to the browser's totalAudioEnergy`);
    assert.equal(session.state, 'connected');
    await page.close();
  } finally {
    await endpoint.close();
    await browser.close();
    await new Promise((r) => http.close(r));
  }
});
