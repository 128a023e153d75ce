/**
 * The SDP a trunk leg needs beyond what the media drivers make: the offer to the carrier in the
 * carrier's codec order (its trunk settings list them, e.g. PCMA then PCMU: a carrier answers with
 * the first it supports, RFC 3264 section 6.1), and the codec a description settled on, for the call
 * record. Pure text functions over the audio `m=` line, tested on their own.
 */

/** Static payload types of the codecs a trunk offers (RFC 3551 section 6). */
const STATIC: Record<string, string> = { '0': 'PCMU', '8': 'PCMA', '9': 'G722' };

/**
 * `sdp` with its audio payload types reordered to `codecs` (names, case-insensitive): the listed
 * codecs first in that order, then what else was offered that is not a listed-out codec
 * (telephone-event, comfort noise). A codec of the offer that `codecs` does not name is dropped;
 * if that would leave no audio codec, the offer is returned unchanged (the carrier answers 488).
 */
export function orderCodecs(sdp: string, codecs: readonly string[]): string {
  const lines = sdp.split(/\r?\n/);
  const m = lines.findIndex((l) => l.startsWith('m=audio '));
  if (m < 0) return sdp;
  const parts = lines[m]!.split(' ');
  const pts = parts.slice(3);
  const names = codecNames(lines);
  const wanted = codecs.map((c) => c.toUpperCase());
  const known = new Set(['PCMU', 'PCMA', 'G722', 'OPUS']);
  const listed = wanted.flatMap((w) => pts.filter((pt) => nameOf(pt, names) === w));
  if (listed.length === 0) return sdp;
  const rest = pts.filter((pt) => !listed.includes(pt) && !known.has(nameOf(pt, names)));
  const keep = new Set([...listed, ...rest]);
  const out = lines.filter((l) => {
    const a = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)[ \t]/.exec(l);
    return !a || keep.has(a[1]!);
  });
  const mAt = out.findIndex((l) => l.startsWith('m=audio '));
  out[mAt] = [...parts.slice(0, 3), ...listed, ...rest].join(' ');
  return out.join('\r\n');
}

/** Attributes a plain RTP/AVP carrier leg uses (RFC 4566, 3264, 3605); the rest are WebRTC's. */
const PLAIN = /^a=(rtpmap|fmtp|ptime|maxptime|sendrecv|sendonly|recvonly|inactive|rtcp):?/;

/**
 * `sdp` with only what a carrier's RTP/AVP leg needs: an offer made from a browser's (the rtpengine
 * driver's) carries WebRTC's header extensions, msid, ssrc and mid lines and a 48 kHz
 * telephone-event, which carriers ignore at best, and which push an INVITE past the 1300 bytes
 * after which it must go over TCP (RFC 3261 section 18.1.1), where many carriers do not listen.
 */
export function plainRtp(sdp: string): string {
  const lines = sdp.split(/\r?\n/).filter((l) => l !== '');
  const wideEvents = new Set<string>();
  for (const l of lines) {
    const r = /^a=rtpmap:(\d+) telephone-event\/(\d+)/i.exec(l);
    if (r && r[2] !== '8000') wideEvents.add(r[1]!);
  }
  const out = lines
    .filter((l) => !l.startsWith('a=') || PLAIN.test(l))
    .filter((l) => {
      const a = /^a=(?:rtpmap|fmtp):(\d+)[ \t]/.exec(l);
      return !a || !wideEvents.has(a[1]!);
    })
    .map((l) => {
      if (!l.startsWith('m=audio ')) return l;
      const parts = l.split(' ');
      return [...parts.slice(0, 3), ...parts.slice(3).filter((pt) => !wideEvents.has(pt))].join(' ');
    });
  return out.join('\r\n') + '\r\n';
}

/** The codec a description puts first on its audio line (`PCMA`, `opus`, ...), or null. */
export function firstCodec(sdp: string): string | null {
  const lines = sdp.split(/\r?\n/);
  const m = lines.find((l) => l.startsWith('m=audio '));
  const pt = m?.split(' ')[3];
  if (pt === undefined) return null;
  const name = codecNames(lines).get(pt) ?? STATIC[pt];
  return name ? (name.toUpperCase() === 'OPUS' ? 'opus' : name.toUpperCase()) : null;
}

function codecNames(lines: string[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const l of lines) {
    const r = /^a=rtpmap:(\d+) ([^/\s]+)/.exec(l);
    if (r) names.set(r[1]!, r[2]!);
  }
  return names;
}

function nameOf(pt: string, names: Map<string, string>): string {
  return (names.get(pt) ?? STATIC[pt] ?? '').toUpperCase();
}
