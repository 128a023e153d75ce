/**
 * A call's network quality from WebRTC statistics (W3C webrtc-stats): round-trip time, packet loss and
 * jitter, read into good / fair / poor for a signal-bars indicator.
 *
 * Loss is measured over the interval since the previous reading (packets lost / expected between two
 * samples), not over the whole call, so an indicator recovers once a bad patch ends. Thresholds follow
 * the usual VoIP budget (ITU-T G.114: up to 150 ms one-way is good, 400 ms the limit; Opus conceals up
 * to a few percent of loss): good under 300 ms RTT, 2 % loss and 30 ms jitter; poor past 600 ms, 8 % or
 * 100 ms.
 */
import type { StatsReportLike } from './call-webrtc.ts';

export type QualityLevel = 'good' | 'fair' | 'poor' | 'unknown';

export interface CallQuality {
  level: QualityLevel;
  /** Seconds; null when no measurement yet. */
  roundTripTime: number | null;
  /** Fraction 0..1 of inbound packets lost since the previous reading; null before two readings. */
  packetLoss: number | null;
  /** Seconds (inbound, worst stream). */
  jitter: number | null;
  /** Inbound RTP packets so far, all streams (a test's proof that media flows). */
  packetsReceived: number;
}

/** Cumulative counters of one reading, kept to compute the next reading's interval loss. */
export interface QualitySample {
  received: number;
  lost: number;
}

const GOOD = { rtt: 0.3, loss: 0.02, jitter: 0.03 };
const POOR = { rtt: 0.6, loss: 0.08, jitter: 0.1 };

/** Reads one stats report; `previous` is the sample of the last reading (for interval loss). */
export function readQuality(
  report: StatsReportLike,
  previous: QualitySample | null,
): { quality: CallQuality; sample: QualitySample } {
  let received = 0;
  let lost = 0;
  let jitter: number | null = null;
  let pairRtt: number | null = null;
  let remoteRtt: number | null = null;
  report.forEach((s) => {
    if (s.type === 'inbound-rtp') {
      received += s.packetsReceived ?? 0;
      lost += Math.max(0, s.packetsLost ?? 0);
      if (typeof s.jitter === 'number') jitter = Math.max(jitter ?? 0, s.jitter);
    } else if (s.type === 'remote-inbound-rtp' && typeof s.roundTripTime === 'number') {
      remoteRtt = Math.max(remoteRtt ?? 0, s.roundTripTime);
    } else if (
      s.type === 'candidate-pair' &&
      typeof s.currentRoundTripTime === 'number' &&
      (s.selected || s.nominated) &&
      (s.state === undefined || s.state === 'succeeded')
    ) {
      pairRtt = s.currentRoundTripTime;
    }
  });
  const sample = { received, lost };
  let packetLoss: number | null = null;
  if (previous) {
    const dReceived = Math.max(0, received - previous.received);
    const dLost = Math.max(0, lost - previous.lost);
    packetLoss = dReceived + dLost > 0 ? dLost / (dReceived + dLost) : 0;
  }
  // The ICE pair's RTT is measured on every check; the RTCP one only when the far end sends reports.
  const roundTripTime = pairRtt ?? remoteRtt;
  const quality: CallQuality = {
    level: classify(roundTripTime, packetLoss, jitter),
    roundTripTime,
    packetLoss,
    jitter,
    packetsReceived: received,
  };
  return { quality, sample };
}

/** The worst of the three measures decides; nothing measured yet is `unknown`. */
export function classify(rtt: number | null, loss: number | null, jitter: number | null): QualityLevel {
  if (rtt === null && loss === null && jitter === null) return 'unknown';
  const over = (limit: typeof GOOD) =>
    (rtt ?? 0) > limit.rtt || (loss ?? 0) > limit.loss || (jitter ?? 0) > limit.jitter;
  if (over(POOR)) return 'poor';
  if (over(GOOD)) return 'fair';
  return 'good';
}
