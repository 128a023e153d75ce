/**
 * A session's outgoing RTP timeline (RFC 3550 section 5.1), shared by its three senders: the pacer
 * (own audio), forwarded packets (the bridge) and DTMF events. One sequence counter for all of them
 * (one SSRC, one sequence space) and one timestamp line that never runs backwards when the sender
 * changes: each sender starts from "the timestamp of now", the last sent timestamp advanced by the
 * wall time since at the codec clock.
 *
 * Forwarded packets keep their source's timestamp spacing (jitter and gaps stay what they were) by
 * an offset fixed when a source (SSRC) starts being forwarded; the first packet after such a switch
 * carries the marker bit (RFC 3551 section 4.1: a discontinuity in the timeline).
 */
import { randomInt } from 'node:crypto';
import type { Clock } from '@parley/sip';

export class RtpTimeline {
  readonly ssrc = randomInt(1, 0x100000000);
  private seq = randomInt(0, 0x10000);
  private lastTs = randomInt(0, 0x100000000);
  private lastAt: number;
  private source: { ssrc: number; offset: number } | undefined;
  packets = 0;
  octets = 0;

  constructor(
    private readonly clock: Clock,
    private clockRate: number,
  ) {
    this.lastAt = clock.now();
  }

  /** The timestamp for this instant on our line. */
  now(): number {
    const ticks = Math.round(((this.clock.now() - this.lastAt) * this.clockRate) / 1000);
    return (this.lastTs + ticks) >>> 0;
  }

  /** The codec clock changed (a renegotiation to another rate): the line goes on from now. */
  setClockRate(rate: number): void {
    if (rate === this.clockRate) return;
    this.lastTs = this.now();
    this.lastAt = this.clock.now();
    this.clockRate = rate;
  }

  /** The next sequence number, and the record that a packet with `timestamp` leaves now. */
  take(timestamp: number, payloadBytes: number): number {
    const s = this.seq;
    this.seq = (this.seq + 1) & 0xffff;
    this.lastTs = timestamp >>> 0;
    this.lastAt = this.clock.now();
    this.packets++;
    this.octets += payloadBytes;
    return s;
  }

  /** Our timestamp for a forwarded packet, and whether it starts a new stretch (marker). */
  forwarded(ssrc: number, timestamp: number): { timestamp: number; first: boolean } {
    let first = false;
    if (!this.source || this.source.ssrc !== ssrc) {
      this.source = { ssrc, offset: (this.now() - timestamp) | 0 };
      first = true;
    }
    return { timestamp: (timestamp + this.source.offset) >>> 0, first };
  }

  /** The next forwarded packet re-anchors (after our own audio or events took the line). */
  resetForwarding(): void {
    this.source = undefined;
  }
}
