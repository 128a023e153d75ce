/**
 * The recorder: a session's incoming audio into PCM (and a WAV file when asked), for the echo test's
 * recording window and voicemail's messages.
 *
 * It ends at the first of: `maxDurationMs` of audio (counted in samples, so it is exact whatever the
 * packet timing), a run of silence when silence detection is on, `stop()`, or the session closing.
 * Frames are placed by their RTP timestamps (RFC 3550 section 5.1): a gap from lost packets becomes
 * silence of the same length, so a recording keeps real time rather than shrinking.
 *
 * Silence detection compares each 20 ms frame's RMS level with `levelDbfs`; by default it arms only
 * after some sound was heard (a caller who takes a breath before speaking is not cut off), and the
 * silent tail that ended the recording is trimmed away.
 */
import type { AudioFrame, MediaSession, MediaSessionEventSource } from './session.ts';
import { rmsDbfs } from './analysis.ts';
import { Resampler } from './resample.ts';
import { writeWav, type Pcm } from './wav.ts';

export interface SilenceDetection {
  /** How long the silence must last to end the recording. */
  readonly durationMs: number;
  /** Frames below this level count as silent (default -45 dBFS: room noise, not speech). */
  readonly levelDbfs?: number;
  /** Arm only after a frame above the level was heard (default true). */
  readonly afterSound?: boolean;
}

export interface RecorderOptions {
  readonly maxDurationMs: number;
  /** The stored rate (default the session's codec rate). */
  readonly sampleRate?: number;
  /** Writes the recording here as a 16-bit mono WAV before `done` resolves. */
  readonly path?: string;
  readonly silence?: SilenceDetection;
}

export type RecordingEnd = 'max_duration' | 'silence' | 'stopped' | 'closed';

export interface Recording extends Pcm {
  readonly durationMs: number;
  readonly end: RecordingEnd;
  /** Whether any frame was above the silence level (default -45 dBFS). */
  readonly heardSound: boolean;
  readonly path?: string;
}

/** The part of a session a recorder needs. */
export type RecordableSession = MediaSessionEventSource & Pick<MediaSession, 'codec' | 'state'>;

/** Longest gap filled with silence; a longer one (a stream restart) is not real time to keep. */
const MAX_GAP_MS = 1000;

export class Recorder {
  readonly done: Promise<Recording>;
  readonly sampleRate: number;
  private resolve!: (r: Recording) => void;
  private reject!: (e: unknown) => void;
  private readonly chunks: Int16Array[] = [];
  private total = 0;
  private readonly max: number;
  private readonly resampler: Resampler;
  private readonly ticksPerSample: number;
  private nextTs: number | undefined;
  private silentMs = 0;
  private heardSound = false;
  private ended = false;
  private readonly onAudio = (f: AudioFrame) => this.add(f);
  private readonly onClose = () => this.finish('closed');

  constructor(
    private readonly session: RecordableSession,
    private readonly options: RecorderOptions,
  ) {
    this.done = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    this.sampleRate = options.sampleRate ?? session.codec.sampleRate;
    this.max = Math.round((options.maxDurationMs * this.sampleRate) / 1000);
    this.resampler = new Resampler(session.codec.sampleRate, this.sampleRate);
    this.ticksPerSample = session.codec.clockRate / session.codec.sampleRate;
    if (session.state === 'closed') {
      this.finish('closed');
      return;
    }
    session.on('audio', this.onAudio);
    session.on('close', this.onClose);
  }

  /** Ends the recording now; idempotent. */
  stop(): void {
    this.finish('stopped');
  }

  private add(frame: AudioFrame): void {
    if (this.ended) return;
    const level = this.options.silence?.levelDbfs ?? -45;
    if (this.nextTs !== undefined) {
      const gapTicks = (frame.rtpTimestamp - this.nextTs) | 0; // wraps at 2^32
      const gapSamples = Math.round(gapTicks / this.ticksPerSample);
      const gapMs = (Math.abs(gapSamples) * 1000) / frame.sampleRate;
      // Within a second: a reordered or duplicate frame (already past it) or loss (filled).
      // Beyond: the sender restarted its timeline; carry on from the new timestamps.
      if (gapMs <= MAX_GAP_MS) {
        if (gapSamples < 0) return;
        if (gapSamples > 0) this.append(new Int16Array(gapSamples));
        if (this.ended) return;
      }
    }
    this.nextTs = (frame.rtpTimestamp + frame.samples.length * this.ticksPerSample) >>> 0;
    this.append(frame.samples);
    const loud = rmsDbfs(frame.samples) >= level;
    if (loud) this.heardSound = true;
    const silence = this.options.silence;
    if (!silence || this.ended) return;
    this.silentMs = loud ? 0 : this.silentMs + (frame.samples.length * 1000) / frame.sampleRate;
    if ((this.heardSound || silence.afterSound === false) && this.silentMs >= silence.durationMs) {
      this.trim(Math.round((this.silentMs * this.sampleRate) / 1000));
      this.finish('silence');
    }
  }

  private append(samples: Int16Array): void {
    let out = this.resampler.process(samples);
    if (this.total + out.length >= this.max) {
      out = out.subarray(0, this.max - this.total);
      this.push(out);
      this.finish('max_duration');
      return;
    }
    this.push(out);
  }

  private push(samples: Int16Array): void {
    if (samples.length === 0) return;
    this.chunks.push(samples.slice());
    this.total += samples.length;
  }

  private trim(samples: number): void {
    let left = Math.min(samples, this.total);
    this.total -= left;
    while (left > 0) {
      const last = this.chunks[this.chunks.length - 1]!;
      if (last.length <= left) {
        this.chunks.pop();
        left -= last.length;
      } else {
        this.chunks[this.chunks.length - 1] = last.subarray(0, last.length - left);
        left = 0;
      }
    }
  }

  private finish(end: RecordingEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.session.off('audio', this.onAudio);
    this.session.off('close', this.onClose);
    const samples = new Int16Array(this.total);
    let o = 0;
    for (const c of this.chunks) {
      samples.set(c, o);
      o += c.length;
    }
    this.chunks.length = 0;
    const recording: Recording = {
      samples,
      sampleRate: this.sampleRate,
      durationMs: (samples.length * 1000) / this.sampleRate,
      end,
      heardSound: this.heardSound,
      ...(this.options.path ? { path: this.options.path } : {}),
    };
    if (!this.options.path) return this.resolve(recording);
    writeWav(this.options.path, recording).then(
      () => this.resolve(recording),
      (err) => this.reject(err),
    );
  }
}
