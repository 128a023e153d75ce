/**
 * DTMF as RFC 4733 named telephone events, shared by the plain RTP and the WebRTC sessions: a
 * receiver that turns the redundant packets of an event into one {@link DtmfEvent}, and a sender
 * that plays digits out as event packets on a session's own timeline.
 *
 * On the wire (RFC 4733 section 2.3) every packet of one event carries the same RTP timestamp (the
 * event's start), a duration that grows, the E bit on the last packets (sent three times, section
 * 2.5.1.4) and the marker bit on the first (section 2.5.1.1). The receiver keys events on that
 * timestamp, so retransmitted end packets and a lost first packet both give exactly one event.
 */
import type { Clock, TimerHandle } from '@parley/sip';
import { MediaError } from './errors.ts';

/** The digits of RFC 4733 section 3.2, table 7, by event code (0-9, *, #, A-D). */
export const DTMF_DIGITS = '0123456789*#ABCD';

/** A digit string: 0-9, *, #, A-D (case-insensitive), at most 64 of them. */
export const DTMF_PATTERN = /^[0-9*#A-Da-d]{1,64}$/;

/** One digit heard: emitted once, when the event ends. */
export interface DtmfEvent {
  readonly digit: string;
  /** How long the key was held, from the event's duration field (clock ticks turned into ms). */
  readonly durationMs: number;
  /** The event's RTP timestamp (its start, in the event clock). */
  readonly rtpTimestamp: number;
}

export interface DtmfSendOptions {
  /** Tone length per digit (default 100 ms; RFC 4733 section 2.5.1.2 leaves it to the sender). */
  readonly durationMs?: number;
  /** Pause between digits (default 70 ms, the ITU-T Q.24 minimum pause range). */
  readonly gapMs?: number;
}

export function dtmfCode(digit: string): number {
  const i = DTMF_DIGITS.indexOf(digit.toUpperCase());
  if (i < 0) throw new RangeError(`not a DTMF digit: ${digit}`);
  return i;
}

/** The 4-byte event payload (RFC 4733 section 2.3): event, E bit, reserved, volume, duration. */
export function encodeDtmfPayload(event: number, end: boolean, volume: number, duration: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b[0] = event;
  b[1] = (end ? 0x80 : 0) | (volume & 0x3f);
  b.writeUInt16BE(Math.min(0xffff, duration), 2);
  return b;
}

/** Turns incoming event packets into {@link DtmfEvent}s, once each. */
export class DtmfReceiver {
  private current: { ts: number; event: number; duration: number } | undefined;
  /** Timestamps of events already reported (the end packets repeat). */
  private lastReportedTs: number | undefined;

  constructor(
    private readonly clockRate: number,
    private readonly onEvent: (e: DtmfEvent) => void,
  ) {}

  /** One event packet's payload and RTP timestamp. Malformed payloads are ignored. */
  push(payload: Uint8Array, timestamp: number): void {
    if (payload.length < 4) return;
    const event = payload[0]!;
    const end = (payload[1]! & 0x80) !== 0;
    const duration = (payload[2]! << 8) | payload[3]!;
    if (timestamp === this.lastReportedTs) return; // a repeated end packet
    const cur = this.current;
    if (cur && cur.ts !== timestamp) this.report(cur); // a new event: the previous lost its end
    if (!this.current || this.current.ts !== timestamp) this.current = { ts: timestamp, event, duration };
    else this.current.duration = Math.max(this.current.duration, duration);
    if (end) this.report(this.current);
  }

  private report(e: { ts: number; event: number; duration: number }): void {
    this.current = undefined;
    this.lastReportedTs = e.ts;
    if (e.event >= DTMF_DIGITS.length) return; // other named events (RFC 4734): not digits
    this.onEvent({
      digit: DTMF_DIGITS[e.event]!,
      durationMs: Math.round((e.duration * 1000) / this.clockRate),
      rtpTimestamp: e.ts,
    });
  }
}

/** What a sender needs of its session: the timeline now, and a way to put one packet out. */
export interface DtmfSink {
  readonly clockRate: number;
  /** The session's RTP timestamp for this instant (its next audio frame's). */
  timestampNow(): number;
  sendEvent(payload: Buffer, timestamp: number, marker: boolean): void;
}

/** Packet interval while an event lasts (RFC 4733 section 2.5.1.2 suggests 50 ms; we use the ptime). */
const UPDATE_MS = 20;
/** End packets are sent three times (RFC 4733 section 2.5.1.4). */
const END_REPEATS = 3;
const VOLUME = 10; // -10 dBm0

/**
 * Sends digit strings one after another on the sink's timeline; a second `send` queues behind the
 * first. `close()` ends what is queued (their promises resolve) and clears the timer.
 */
export class DtmfSender {
  private queue: Array<{ digits: string; opts: DtmfSendOptions; done: () => void }> = [];
  private timer: TimerHandle | undefined;
  private busy = false;
  private closed = false;
  private playing = false;

  constructor(
    private readonly sink: DtmfSink,
    private readonly clock: Clock,
  ) {}

  /**
   * {@link MediaSession.sendDtmf}: refused with `closed` when the session is, `no_telephone_event`
   * when the far end did not negotiate it, `invalid_dtmf` for anything but digits.
   */
  sendFor(
    session: { readonly state: string; readonly sendsEvents: boolean },
    digits: string,
    opts?: DtmfSendOptions,
  ): Promise<void> {
    if (session.state === 'closed')
      return Promise.reject(new MediaError('closed', 'the media session is closed'));
    if (!session.sendsEvents)
      return Promise.reject(
        new MediaError('no_telephone_event', 'the far end did not negotiate telephone-event'),
      );
    return this.send(digits, opts);
  }

  send(digits: string, opts: DtmfSendOptions = {}): Promise<void> {
    if (typeof digits !== 'string' || !DTMF_PATTERN.test(digits))
      return Promise.reject(new MediaError('invalid_dtmf', 'digits must be 1-64 of 0-9, *, #, A-D'));
    return new Promise((done) => {
      if (this.closed) return done();
      this.queue.push({ digits: digits.toUpperCase(), opts, done });
      if (!this.busy) this.next();
    });
  }

  /** True while an event is on the wire (a session sends no audio frames meanwhile). */
  get active(): boolean {
    return this.playing;
  }

  close(): void {
    this.closed = true;
    this.playing = false;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    for (const q of this.queue.splice(0)) q.done();
  }

  private next(): void {
    const item = this.queue[0];
    if (!item || this.closed) {
      this.busy = false;
      return;
    }
    this.busy = true;
    const durationMs = Math.max(40, item.opts.durationMs ?? 100);
    const gapMs = Math.max(0, item.opts.gapMs ?? 70);
    let i = 0;
    const digit = () => {
      if (this.closed) return;
      if (i >= item.digits.length) {
        this.queue.shift();
        item.done();
        this.next();
        return;
      }
      this.playDigit(dtmfCode(item.digits[i++]!), durationMs, () => this.after(gapMs, digit));
    };
    digit();
  }

  private after(ms: number, fn: () => void): void {
    this.timer = this.clock.setTimer(ms, () => {
      this.timer = undefined;
      fn();
    });
  }

  /** One event: a packet at once (marker set), one per {@link UPDATE_MS} with the duration so far, then the end. */
  private playDigit(event: number, durationMs: number, then: () => void): void {
    const { sink } = this;
    const ts = sink.timestampNow();
    const ticks = (ms: number) => Math.round((ms * sink.clockRate) / 1000);
    let elapsed = 0;
    this.playing = true;
    const step = () => {
      if (this.closed) return;
      elapsed += UPDATE_MS;
      if (elapsed < durationMs) {
        sink.sendEvent(encodeDtmfPayload(event, false, VOLUME, ticks(elapsed)), ts, elapsed === UPDATE_MS);
        this.after(UPDATE_MS, step);
        return;
      }
      const end = encodeDtmfPayload(event, true, VOLUME, ticks(durationMs));
      for (let r = 0; r < END_REPEATS; r++) sink.sendEvent(end, ts, false);
      this.playing = false;
      then();
    };
    step();
  }
}
