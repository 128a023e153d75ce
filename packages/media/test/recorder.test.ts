/**
 * The recorder's rules on a fake session (a unit test of one layer; the real-peer recordings are in
 * endpoint.test.ts): exact maximum, gaps kept as silence, silence detection, stop and close.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { TypedEmitter } from '@parley/sip';
import {
  CODECS,
  readWav,
  Recorder,
  rmsDbfs,
  ToneSource,
  type MediaSessionEvents,
  type MediaSessionState,
} from '../src/index.ts';

class FakeSession extends TypedEmitter<MediaSessionEvents> {
  readonly codec = CODECS.PCMU;
  state: MediaSessionState = 'connected';
  private ts = 1000;
  private seq = 0;
  private readonly tone = new ToneSource({ frequencies: [500], durationMs: 60_000, sampleRate: 8000 });
  /** Emits `n` 20 ms frames, loud or silent. */
  frames(n: number, loud: boolean): void {
    for (let i = 0; i < n; i++) {
      const samples = loud ? this.tone.read(160) : new Int16Array(160);
      this.emit('audio', { samples, sampleRate: 8000, rtpTimestamp: this.ts >>> 0, sequence: this.seq++ });
      this.ts += 160;
    }
  }
  skip(frames: number): void {
    this.ts += 160 * frames;
  }
  close(): void {
    this.state = 'closed';
    this.emit('close', 'closed');
  }
}

test('the maximum duration is exact in samples and the WAV is written', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'parley-rec-'));
  try {
    const s = new FakeSession();
    const path = join(dir, 'r.wav');
    const r = new Recorder(s, { maxDurationMs: 1010, path });
    s.frames(100, true);
    const rec = await r.done;
    assert.equal(rec.end, 'max_duration');
    assert.equal(rec.samples.length, 8080);
    assert.equal((await readWav(path)).samples.length, 8080);
    assert.equal(s.listenerCount('audio'), 0, 'the recorder lets go of the session');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('lost packets become silence of the same length; a restarted timeline is not a gap', async () => {
  const s = new FakeSession();
  const r = new Recorder(s, { maxDurationMs: 10_000 });
  s.frames(10, true);
  s.skip(5); // 100 ms lost
  s.frames(10, true);
  s.skip(1_000_000); // a new timeline (far jump): no 2-minute hole
  s.frames(5, true);
  r.stop();
  const rec = await r.done;
  assert.equal(rec.end, 'stopped');
  assert.equal(rec.samples.length, (10 + 5 + 10 + 5) * 160);
  assert.equal(rmsDbfs(rec.samples.subarray(1600, 2400)), -Infinity, 'the gap is silent');
});

test('silence ends the recording only after sound, and the silent tail is trimmed', async () => {
  const s = new FakeSession();
  const r = new Recorder(s, { maxDurationMs: 10_000, silence: { durationMs: 500 } });
  s.frames(50, false); // a second of silence first: not armed yet
  s.frames(25, true); // half a second of sound
  s.frames(30, false);
  const rec = await r.done;
  assert.equal(rec.end, 'silence');
  assert.equal(rec.samples.length, (50 + 25) * 160);
  assert.ok(rec.heardSound);
});

test('silence from the start ends it when afterSound is false; closing the session ends a recording', async () => {
  const s = new FakeSession();
  const quiet = new Recorder(s, { maxDurationMs: 10_000, silence: { durationMs: 200, afterSound: false } });
  s.frames(10, false);
  const q = await quiet.done;
  assert.deepEqual([q.end, q.heardSound, q.samples.length], ['silence', false, 0]);
  const r = new Recorder(s, { maxDurationMs: 10_000 });
  s.frames(5, true);
  s.close();
  const rec = await r.done;
  assert.deepEqual([rec.end, rec.samples.length], ['closed', 800]);
  const late = new Recorder(s, { maxDurationMs: 1000 });
  assert.equal((await late.done).end, 'closed');
});
