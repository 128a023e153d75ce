/** The quality reading from WebRTC stats: the worst of RTT, interval loss and jitter decides. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, readQuality } from '../src/call-quality.ts';
import type { StatsLike } from '../src/call-webrtc.ts';

const report = (stats: Array<Partial<StatsLike> & { type: string }>) => ({
  forEach: (fn: (s: StatsLike) => void) => stats.forEach((s, i) => fn({ id: `s${i}`, ...s })),
});

test('thresholds: good, fair and poor by the worst measure; nothing measured is unknown', () => {
  assert.equal(classify(null, null, null), 'unknown');
  assert.equal(classify(0.05, 0, 0.005), 'good');
  assert.equal(classify(0.35, 0, 0.005), 'fair');
  assert.equal(classify(0.05, 0.03, 0.005), 'fair');
  assert.equal(classify(0.05, 0, 0.05), 'fair');
  assert.equal(classify(0.7, 0, 0), 'poor');
  assert.equal(classify(0.05, 0.1, 0), 'poor');
  assert.equal(classify(0.05, 0, 0.2), 'poor');
});

test('loss is measured over the interval since the previous reading, so a bad patch passes', () => {
  const first = readQuality(report([{ type: 'inbound-rtp', packetsReceived: 900, packetsLost: 100 }]), null);
  assert.equal(first.quality.packetLoss, null, 'no interval yet');
  // 100 expected in the interval, 20 lost: 20 %
  const bad = readQuality(
    report([{ type: 'inbound-rtp', packetsReceived: 980, packetsLost: 120 }]),
    first.sample,
  );
  assert.equal(bad.quality.packetLoss, 0.2);
  assert.equal(bad.quality.level, 'poor');
  const healed = readQuality(
    report([{ type: 'inbound-rtp', packetsReceived: 1080, packetsLost: 120 }]),
    bad.sample,
  );
  assert.equal(healed.quality.packetLoss, 0);
  assert.equal(healed.quality.level, 'good');
});

test('RTT from the selected candidate pair first, else RTCP; jitter from the worst inbound stream', () => {
  const q = readQuality(
    report([
      { type: 'inbound-rtp', kind: 'audio', packetsReceived: 10, jitter: 0.004 },
      { type: 'inbound-rtp', kind: 'video', packetsReceived: 20, jitter: 0.04 },
      { type: 'remote-inbound-rtp', roundTripTime: 0.5 },
      { type: 'candidate-pair', nominated: true, state: 'succeeded', currentRoundTripTime: 0.02 },
      { type: 'candidate-pair', nominated: false, state: 'failed', currentRoundTripTime: 2 },
    ]),
    null,
  ).quality;
  assert.equal(q.roundTripTime, 0.02);
  assert.equal(q.jitter, 0.04);
  assert.equal(q.packetsReceived, 30);
  assert.equal(q.level, 'fair');
  const rtcpOnly = readQuality(report([{ type: 'remote-inbound-rtp', roundTripTime: 0.5 }]), null).quality;
  assert.equal(rtcpOnly.roundTripTime, 0.5);
});
