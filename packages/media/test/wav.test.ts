/** WAV reading and writing, sample-rate conversion, tones and the audio output queue. */
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  AudioOutput,
  BufferSource,
  drain,
  encodeWav,
  MediaError,
  parseWav,
  resample,
  ResampledSource,
  rmsDbfs,
  strongestOf,
  toneAmplitude,
  ToneSource,
  zeroCrossingFrequency,
} from '../src/index.ts';

const tone = (f: number, rate: number, ms = 500) =>
  new ToneSource({ frequencies: [f], durationMs: ms, sampleRate: rate }).read(1e9);

test('a WAV written at 8, 16 and 48 kHz reads back the same samples', () => {
  for (const rate of [8000, 16000, 48000]) {
    const samples = tone(440, rate, 100);
    const back = parseWav(encodeWav({ samples, sampleRate: rate }));
    assert.equal(back.sampleRate, rate);
    assert.deepEqual(back.samples, samples);
  }
});

test('stereo is averaged to mono; chunks before fmt and odd-sized chunks are skipped', () => {
  const mono = encodeWav({ samples: Int16Array.of(100, -100), sampleRate: 8000 });
  // Rebuild as stereo with a LIST chunk of odd size (padded) before fmt.
  const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc\0')]);
  const fmt = Buffer.from(mono.subarray(12, 36));
  fmt.writeUInt16LE(2, 10); // channels
  fmt.writeUInt16LE(4, 20); // block align
  const data = Buffer.alloc(16);
  data.write('data', 0);
  data.writeUInt32LE(8, 4);
  data.writeInt16LE(100, 8);
  data.writeInt16LE(300, 10);
  data.writeInt16LE(-100, 12);
  data.writeInt16LE(-300, 14);
  const body = Buffer.concat([Buffer.from('WAVE'), list, fmt, data]);
  const file = Buffer.concat([Buffer.from('RIFF'), Buffer.from(new Uint32Array([body.length]).buffer), body]);
  const pcm = parseWav(file);
  assert.deepEqual([...pcm.samples], [200, -200]);
});

test('files that are not 16-bit PCM WAV are refused with unsupported_wav', () => {
  const good = encodeWav({ samples: new Int16Array(10), sampleRate: 8000 });
  const variants: Record<string, Buffer> = {
    'not RIFF': Buffer.from('hello world, not a wav file'),
    empty: Buffer.alloc(0),
    '8-bit': Buffer.from(good).fill(8, 34, 35),
    float: (() => {
      const b = Buffer.from(good);
      b.writeUInt16LE(3, 20);
      return b;
    })(),
    '96 kHz': (() => {
      const b = Buffer.from(good);
      b.writeUInt32LE(96000, 24);
      return b;
    })(),
    'no data': good.subarray(0, 36),
  };
  for (const [name, bytes] of Object.entries(variants))
    assert.throws(
      () => parseWav(bytes),
      (e: MediaError) => e.code === 'unsupported_wav',
      name,
    );
});

test("resampling keeps a tone's pitch: 22,050 -> 48,000, 16,000 -> 8,000, 8,000 -> 48,000, 48,000 -> 8,000", () => {
  for (const [from, to, f] of [
    [22050, 48000, 1000],
    [16000, 8000, 1000],
    [8000, 48000, 600],
    [48000, 8000, 450],
  ] as const) {
    const out = resample(tone(f, from), from, to);
    assert.ok(Math.abs(out.length - to / 2) <= 2, `${from}->${to} length ${out.length}`);
    const mid = out.subarray(out.length / 4, (3 * out.length) / 4);
    assert.equal(strongestOf(mid, to, [300, 450, 600, 800, 1000, 1500]), f);
    const zc = zeroCrossingFrequency(mid, to);
    assert.ok(Math.abs(zc - f) < f * 0.02, `${from}->${to}: ${zc} Hz`);
  }
});

test('downsampling filters what would alias: 6 kHz at 48 kHz does not fold onto 2 kHz at 8 kHz', () => {
  const out = resample(tone(6000, 48000), 48000, 8000);
  const folded = toneAmplitude(out.subarray(400), 8000, 2000);
  const original = toneAmplitude(tone(6000, 48000), 48000, 6000);
  assert.ok(folded < original / 100, `alias at ${(20 * Math.log10(folded / original)).toFixed(1)} dB`);
});

test('streaming conversion in 20 ms reads gives the same samples as converting at once', () => {
  const pcm = { samples: tone(700, 22050, 300), sampleRate: 22050 };
  const whole = resample(pcm.samples, 22050, 48000);
  const streamed = drain(new ResampledSource(new BufferSource(pcm), 48000), 960).samples;
  assert.deepEqual(streamed, whole);
});

test('tones: dual frequencies, cadence, level', () => {
  const single = tone(440, 8000); // -12 dBFS peak is -15 dBFS RMS for a sine
  assert.ok(Math.abs(rmsDbfs(single) - (-12 - 3)) < 0.2, `level ${rmsDbfs(single)}`);
  const ring = new ToneSource({
    frequencies: [400, 450],
    durationMs: 1200,
    cadence: { onMs: 400, offMs: 200 },
    sampleRate: 8000,
  }).read(1e9);
  assert.equal(ring.length, 9600);
  const on = ring.subarray(0, 3200);
  const off = ring.subarray(3200, 4800);
  assert.ok(toneAmplitude(on, 8000, 400) > 0.05 && toneAmplitude(on, 8000, 450) > 0.05);
  assert.equal(rmsDbfs(off), -Infinity);
  assert.ok(toneAmplitude(ring.subarray(4800, 8000), 8000, 450) > 0.05);
  assert.throws(() => new ToneSource({ frequencies: [5000], durationMs: 10, sampleRate: 8000 }), RangeError);
});

test('the output plays sources back to back within a frame, then silence; stop and close end playbacks', async () => {
  const out = new AudioOutput(8000, 160);
  const a = out.play(new BufferSource({ samples: new Int16Array(100).fill(1), sampleRate: 8000 }));
  const b = out.play(new BufferSource({ samples: new Int16Array(100).fill(2), sampleRate: 8000 }));
  const f1 = out.nextFrame();
  assert.equal(f1.silent, false);
  assert.deepEqual([f1.pcm[99], f1.pcm[100], f1.pcm[159]], [1, 2, 2]);
  assert.equal(await a.done, 'finished');
  const f2 = out.nextFrame();
  assert.deepEqual([f2.pcm[39], f2.pcm[40]], [2, 0]);
  assert.equal(await b.done, 'finished');
  assert.equal(out.nextFrame().silent, true);
  const c = out.play(new ToneSource({ frequencies: [440], durationMs: 1000, sampleRate: 8000 }));
  c.stop();
  assert.equal(await c.done, 'stopped');
  const d = out.play(new ToneSource({ frequencies: [440], durationMs: 1000, sampleRate: 48000 })); // converted
  assert.equal(out.nextFrame().pcm.length, 160);
  out.close();
  assert.equal(await d.done, 'closed');
  assert.equal(await out.play(new ToneSource({ frequencies: [440], durationMs: 10 })).done, 'closed');
});
