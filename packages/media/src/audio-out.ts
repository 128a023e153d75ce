/**
 * A session's outgoing audio: a queue of sources played one after another, read one frame at a
 * time by the pacer. When nothing is queued the frame is silence, so the stream never stops (the
 * far end's jitter buffer and any NAT binding stay steady); the next source starts within the
 * frame in which the previous one ended, so back-to-back prompts have no gap.
 */
import { atRate, type AudioSource } from './source.ts';

/** How a playback ended: it ran out, `stop()` was called, or the session closed. */
export type PlaybackEnd = 'finished' | 'stopped' | 'closed';

export interface Playback {
  /** Resolves once the last sample has been handed to the pacer (or on stop/close). */
  readonly done: Promise<PlaybackEnd>;
  /** Stops this playback (queued or playing); idempotent. */
  stop(): void;
}

interface Item {
  source: AudioSource;
  resolve: (end: PlaybackEnd) => void;
  ended: boolean;
}

export class AudioOutput {
  private readonly queue: Item[] = [];
  private closed = false;

  constructor(
    /** The PCM rate of the session's codec; sources at other rates are converted. */
    readonly sampleRate: number,
    readonly frameSamples: number,
  ) {}

  /** Queues a source after whatever is playing. */
  play(source: AudioSource): Playback {
    let resolve!: (end: PlaybackEnd) => void;
    const done = new Promise<PlaybackEnd>((r) => (resolve = r));
    const item: Item = { source: atRate(source, this.sampleRate), resolve, ended: false };
    if (this.closed) {
      item.ended = true;
      resolve('closed');
    } else this.queue.push(item);
    return {
      done,
      stop: () => this.end(item, 'stopped'),
    };
  }

  /** True while a source is queued or playing. */
  get busy(): boolean {
    return this.queue.length > 0;
  }

  /** Stops everything queued and playing. */
  stopAll(): void {
    for (const item of this.queue.slice()) this.end(item, 'stopped');
  }

  /** The next frame: queued audio, padded with silence; `silent` when no source contributed. */
  nextFrame(): { pcm: Int16Array; silent: boolean } {
    const pcm = new Int16Array(this.frameSamples);
    let filled = 0;
    while (filled < this.frameSamples && this.queue.length > 0) {
      const item = this.queue[0]!;
      const chunk = item.source.read(this.frameSamples - filled);
      pcm.set(chunk, filled);
      filled += chunk.length;
      if (filled < this.frameSamples) this.end(item, 'finished');
    }
    return { pcm, silent: filled === 0 };
  }

  /** Ends every playback with 'closed'; later `play` calls end at once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const item of this.queue.slice()) this.end(item, 'closed');
  }

  private end(item: Item, how: PlaybackEnd): void {
    if (item.ended) return;
    item.ended = true;
    const i = this.queue.indexOf(item);
    if (i >= 0) this.queue.splice(i, 1);
    item.resolve(how);
  }
}
