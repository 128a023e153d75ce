/**
 * The one-pass SDP check (src/calls/sdp-check.ts) against the check it replaced, which ran a full
 * sdp-transform parse: both must accept and refuse the same descriptions with the same message, on
 * WebRTC-shaped descriptions (audio, video, session-level credentials, rejected lines) and thousands of
 * mutations of them (lines dropped, duplicated, moved, emptied, values replaced by edge cases such as
 * `0`, `NaN` and leading zeros, line endings changed). A seeded generator keeps failures reproducible.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'sdp-transform';
import { ParleyError, type SessionDescription } from '@parley/protocol';
import { checkSdp } from '../../src/calls/sdp-check.ts';
import { sdp } from './call-devices.ts';

/** The check as it was, on sdp-transform's parse (the reference this one must equal). */
function parsedCheck(d: SessionDescription, field: string, type?: 'offer' | 'answer'): void {
  const bad = (why: string) => new ParleyError('invalid_sdp', `${field}: ${why}`, { field });
  if (type && d.type !== type) throw bad(`must be an ${type}, not an ${d.type}`);
  const s = parse(d.sdp);
  if (s.version !== 0 || !s.origin) throw bad('lacks the v= and o= lines of an SDP session description');
  const media = s.media ?? [];
  if (media.length === 0) throw bad('has no media line (m=)');
  for (const [i, m] of media.entries()) {
    if (!m.type || !m.protocol || !Number.isInteger(m.port))
      throw bad(`media line ${i} does not parse (m=<media> <port> <proto> <fmt>)`);
    if (m.port === 0) continue;
    if (!(m.iceUfrag ?? s.iceUfrag) || !(m.icePwd ?? s.icePwd))
      throw bad(`media line ${i} (${String(m.type)}) lacks ICE credentials (a=ice-ufrag and a=ice-pwd)`);
    if (!(m.fingerprint ?? s.fingerprint)?.hash)
      throw bad(`media line ${i} (${String(m.type)}) lacks a DTLS fingerprint (a=fingerprint)`);
  }
}

const outcome = (f: typeof checkSdp, d: SessionDescription) => {
  try {
    f(d, 'offer', 'offer');
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof ParleyError);
    assert.equal(err.code, 'invalid_sdp');
    return err.message;
  }
};

/** A small seeded generator (mulberry32), so a failing case can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const video = [
  'm=video 0 UDP/TLS/RTP/SAVPF 96',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=ice-ufrag:V1de',
  'a=ice-pwd:x9cml/YzichV2+XlhiMu8g4S',
  'a=fingerprint:sha-256 AB:CD',
  'a=mid:1',
];
const edge = ['', '0', '00', '01', 'NaN', '-0', '1e3', ' ', 'x y', '99999999999999999999', 'Infinity'];
const heads = [
  'v=',
  'o=',
  'm=',
  'a=ice-ufrag:',
  'a=ice-pwd:',
  'a=fingerprint:',
  'a=fingerprint:sha-256 ',
  'V=',
  'a=',
];

function mutate(lines: string[], r: () => number): string[] {
  const out = [...lines];
  const pick = () => Math.floor(r() * out.length);
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) {
    const i = pick();
    switch (Math.floor(r() * 9)) {
      case 0:
        out.splice(i, 1);
        break;
      case 1:
        out.splice(pick(), 0, out[i]!);
        break;
      case 2: {
        const [l] = out.splice(i, 1);
        out.splice(pick(), 0, l!);
        break;
      }
      case 3:
        out[i] = out[i]!.slice(0, Math.floor(r() * out[i]!.length));
        break;
      case 4:
        out.splice(i, 0, heads[Math.floor(r() * heads.length)]! + edge[Math.floor(r() * edge.length)]!);
        break;
      case 5: {
        // one space-separated word of a line replaced by an edge value
        const words = out[i]!.split(' ');
        words[Math.floor(r() * words.length)] = edge[Math.floor(r() * edge.length)]!;
        out[i] = words.join(' ');
        break;
      }
      case 6:
        out.splice(i, 0, ...video.slice(Math.floor(r() * video.length)));
        break;
      case 7:
        out[i] = out[i]!.replace(':', ': ');
        break;
      default:
        out[i] = out[i]!.replace('=', '=' + edge[Math.floor(r() * edge.length)]!);
    }
  }
  return out;
}

describe('SDP check in one pass', () => {
  const bases = [
    sdp(),
    sdp({ video: true }),
    sdp({ ufrag: null }),
    sdp({ fingerprint: false }),
    // credentials and fingerprint at session level, two media lines, one rejected
    [
      'v=0',
      'o=- 1 2 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      'a=ice-ufrag:S3ss',
      'a=ice-pwd:sessionpasswordsessionpw',
      'a=fingerprint:sha-256 01:02',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=mid:0',
      'm=video 0 UDP/TLS/RTP/SAVPF 96',
      '',
    ].join('\n'),
  ];

  test('refuses what the full parse refused and accepts what it accepted, with the same message', () => {
    const r = rng(14);
    let refused = 0;
    let cases = 0;
    for (const base of bases) {
      const lines = base.split(/\r\n|\n/);
      for (let k = 0; k < 1200; k++) {
        const eol = ['\r\n', '\n', '\r'][Math.floor(r() * 3)]!;
        const text = mutate(lines, r).join(eol);
        const d = { type: 'offer' as const, sdp: text };
        const want = outcome(parsedCheck, d);
        assert.equal(outcome(checkSdp, d), want, `differs on ${JSON.stringify(text)}`);
        if (want !== 'ok') refused++;
        cases++;
      }
    }
    // The mutations reach both sides of the check (neither all accepted nor all refused).
    assert.ok(refused > cases / 10 && refused < cases - cases / 10, `${refused} of ${cases} refused`);
  });

  test('a usable description passes; each missing part is named', () => {
    assert.doesNotThrow(() => checkSdp({ type: 'offer', sdp: sdp() }, 'offer', 'offer'));
    assert.throws(() => checkSdp({ type: 'offer', sdp: sdp({ ufrag: null }) }, 'offer'), /ICE credentials/);
    assert.throws(() => checkSdp({ type: 'offer', sdp: sdp({ ufrag: '0' }) }, 'offer'), /ICE credentials/);
    assert.throws(
      () => checkSdp({ type: 'offer', sdp: sdp({ fingerprint: false }) }, 'offer'),
      /fingerprint/,
    );
    assert.throws(() => checkSdp({ type: 'offer', sdp: 'v=0\r\n' }, 'offer'), /v= and o=/);
    assert.throws(() => checkSdp({ type: 'answer', sdp: sdp() }, 'offer', 'offer'), /must be an offer/);
  });
});
