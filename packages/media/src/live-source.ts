/**
 * A live source: PCM pushed in as it arrives (another session's decoded frames) and read out by a
 * session's pacer. Unlike a prompt it never ends until closed: a read that finds too little is
 * padded with silence (a late or lost frame), and a queue grown past `maxMs` (the sender's clock
 * running fast, a burst after a stall) drops its oldest samples, so the delay it adds stays bounded.
 * The transcoding half of the bridge (Opus on one leg, G.711 on the other) uses it.
 */
import type { AudioSource } from './source.ts';

export class LiveSource implements AudioSource {
  private chunks: Int16Array[] = [];
  private queued = 0;
  private closed = false;
  private readonly max: number;
  /** Samples dropped to keep the delay bounded. */
  dropped = 0;
  /** Samples of silence read because nothing had arrived. */
  underrun = 0;

  constructor(
    readonly sampleRate: number,
    maxMs = 120,
  ) {
    this.max = Math.round((sampleRate * maxMs) / 1000);
  }

  push(samples: Int16Array): void {
    if (this.closed || samples.length === 0) return;
    this.chunks.push(samples);
    this.queued += samples.length;
    while (this.queued > this.max && this.chunks.length > 0) {
      const over = this.queued - this.max;
      const head = this.chunks[0]!;
      if (head.length <= over) {
        this.chunks.shift();
        this.queued -= head.length;
        this.dropped += head.length;
      } else {
        this.chunks[0] = head.subarray(over);
        this.queued -= over;
        this.dropped += over;
      }
    }
  }

  read(count: number): Int16Array {
    if (this.closed) return new Int16Array(0);
    const out = new Int16Array(count);
    let o = 0;
    while (o < count && this.chunks.length > 0) {
      const head = this.chunks[0]!;
      const n = Math.min(head.length, count - o);
      out.set(head.subarray(0, n), o);
      o += n;
      if (n === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(n);
    }
    this.queued -= o;
    this.underrun += count - o;
    return out;
  }

  /** Ends the source: the output it plays on moves on. */
  close(): void {
    this.closed = true;
    this.chunks = [];
    this.queued = 0;
  }
}
