/** G.711 against the standard's reference points (ITU-T G.711 tables 1a/2a) and by signal quality. */
import assert from 'node:assert/strict';
import test from 'node:test';
import { g711Decode, g711Encode, rmsDbfs, ToneSource } from '../src/index.ts';

test('µ-law and A-law hit the reference code words and decoded values', () => {
  assert.deepEqual([...g711Encode('ulaw', Int16Array.of(0, 32767, -32768, -1))], [0xff, 0x80, 0x00, 0x7f]);
  assert.deepEqual([...g711Decode('ulaw', Uint8Array.of(0xff, 0x80, 0x00, 0x7f))], [0, 32124, -32124, 0]);
  assert.deepEqual([...g711Encode('alaw', Int16Array.of(0, 32767, -32768))], [0xd5, 0xaa, 0x2a]);
  assert.deepEqual([...g711Decode('alaw', Uint8Array.of(0xd5, 0x55, 0xaa, 0x2a))], [8, -8, 32256, -32256]);
});

test('every code word decodes and re-encodes to itself', () => {
  for (const law of ['ulaw', 'alaw'] as const) {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const back = g711Encode(law, g711Decode(law, all));
    // µ-law has two zeros (0x7f and 0xff); every other word is its own round trip.
    for (let i = 0; i < 256; i++)
      if (!(law === 'ulaw' && i === 0x7f)) assert.equal(back[i], i, `${law} 0x${i.toString(16)}`);
  }
});

test('a tone through G.711 keeps a signal-to-noise ratio above 30 dB', () => {
  const tone = new ToneSource({
    frequencies: [1000],
    durationMs: 200,
    sampleRate: 8000,
    levelDbfs: -10,
  }).read(1600);
  for (const law of ['ulaw', 'alaw'] as const) {
    const out = g711Decode(law, g711Encode(law, tone));
    const err = Int16Array.from(tone, (v, i) => v - out[i]!);
    const snr = rmsDbfs(tone) - rmsDbfs(err);
    assert.ok(snr > 30, `${law} SNR ${snr.toFixed(1)} dB`);
  }
});
