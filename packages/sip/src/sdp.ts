/**
 * SDP (RFC 4566) through sdp-transform, and the offer/answer model (RFC 3264) for the plain audio
 * sessions SIP phones and trunks use: one audio stream, RTP/AVP, static or rtpmap'd codecs,
 * RFC 4733 telephone-event.
 */
import sdpTransform from 'sdp-transform';
import type { SessionDescription, MediaDescription } from 'sdp-transform';

export type { SessionDescription, MediaDescription };

/** A codec as negotiated: payload type, encoding name, clock rate. */
export interface Codec {
  payload: number;
  name: string;
  rate: number;
  channels?: number;
  fmtp?: string;
}

/** Static payload types of RFC 3551 that phones often send without rtpmap. */
const STATIC: Record<number, Codec> = {
  0: { payload: 0, name: 'PCMU', rate: 8000 },
  8: { payload: 8, name: 'PCMA', rate: 8000 },
  9: { payload: 9, name: 'G722', rate: 8000 },
  18: { payload: 18, name: 'G729', rate: 8000 },
};

export const PCMU: Codec = STATIC[0]!;
export const PCMA: Codec = STATIC[8]!;
export const TELEPHONE_EVENT: Codec = { payload: 101, name: 'telephone-event', rate: 8000, fmtp: '0-16' };

export function parseSdp(text: string): SessionDescription {
  return sdpTransform.parse(text);
}

export function writeSdp(desc: SessionDescription): string {
  return sdpTransform.write(desc);
}

/** The codecs a media description offers, in preference order. */
export function codecsOf(m: MediaDescription): Codec[] {
  const payloads = String(m.payloads ?? '')
    .split(' ')
    .filter((p) => p.length > 0)
    .map(Number);
  return payloads
    .map((pt): Codec | undefined => {
      const rtp = m.rtp.find((r) => r.payload === pt);
      const fmtp = m.fmtp.find((f) => f.payload === pt)?.config;
      if (rtp) return { payload: pt, name: rtp.codec, rate: rtp.rate ?? 8000, ...(fmtp ? { fmtp } : {}) };
      return STATIC[pt];
    })
    .filter((c): c is Codec => c !== undefined);
}

export interface AudioEndpoint {
  /** Address written in c= and o= (the advertised address, never learned). */
  address: string;
  port: number;
  codecs: Codec[];
  /** Session id/version for o=; defaults to now. */
  sessionId?: number;
  sessionVersion?: number;
  direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
}

/**
 * Writes a one-session SDP with the given media lines directly (RFC 4566 section 5 field order).
 * Faster than a generic writer on the per-call path; the output parses back through sdp-transform.
 */
function formatSdp(address: string, sessionId: number, sessionVersion: number, media: string[]): string {
  const ip = address.includes(':') ? 'IP6' : 'IP4';
  return (
    `v=0\r\no=- ${sessionId} ${sessionVersion} IN ${ip} ${address}\r\ns=-\r\nc=IN ${ip} ${address}\r\nt=0 0\r\n` +
    media.join('')
  );
}

function audioMedia(port: number, protocol: string, codecs: Codec[], direction: string): string {
  let m = `m=audio ${port} ${protocol} ${codecs.map((c) => c.payload).join(' ')}\r\n`;
  for (const c of codecs)
    m += `a=rtpmap:${c.payload} ${c.name}/${c.rate}${c.channels ? '/' + c.channels : ''}\r\n`;
  for (const c of codecs) if (c.fmtp) m += `a=fmtp:${c.payload} ${c.fmtp}\r\n`;
  return m + `a=${direction}\r\n`;
}

/** An SDP offer with one audio stream (RFC 3264 section 5). */
export function createAudioOffer(ep: AudioEndpoint): string {
  const id = ep.sessionId ?? Math.floor(Date.now() / 1000);
  return formatSdp(ep.address, id, ep.sessionVersion ?? id, [
    audioMedia(ep.port, 'RTP/AVP', ep.codecs, ep.direction ?? 'sendrecv'),
  ]);
}

/** The negotiated result of an answer. */
export interface AudioAnswer {
  sdp: string;
  /** Codecs common to both sides, in the offerer's order and payload numbers. */
  codecs: Codec[];
  /** Where the offerer wants media: the c= address (media or session level) and port. */
  remote: { address: string; port: number };
}

const OPPOSITE = {
  sendrecv: 'sendrecv',
  sendonly: 'recvonly',
  recvonly: 'sendonly',
  inactive: 'inactive',
} as const;

/**
 * Answers an offer (RFC 3264 section 6): the first audio stream gets the codecs both sides
 * support (offerer's payload numbers), other streams are rejected with port 0. Returns undefined
 * when nothing is acceptable, which a UAS answers with 488.
 */
export function answerAudioOffer(offerText: string, local: AudioEndpoint): AudioAnswer | undefined {
  let offer: SessionDescription;
  try {
    offer = parseSdp(offerText);
  } catch {
    return undefined;
  }
  const wanted = new Set(local.codecs.map((c) => `${c.name.toLowerCase()}/${c.rate}`));
  let chosen: Codec[] | undefined;
  let remote: AudioAnswer['remote'] | undefined;
  const media: string[] = offer.media.map((m) => {
    const take = chosen === undefined && m.type === 'audio' && m.port !== 0 && /^RTP\/AVP$/i.test(m.protocol);
    const common = take ? codecsOf(m).filter((c) => wanted.has(`${c.name.toLowerCase()}/${c.rate}`)) : [];
    if (take && common.some((c) => c.name.toLowerCase() !== 'telephone-event')) {
      chosen = common;
      remote = { address: m.connection?.ip ?? offer.connection?.ip ?? '', port: m.port };
      const dir = (m.direction ?? offer.direction ?? 'sendrecv') as keyof typeof OPPOSITE;
      return audioMedia(local.port, m.protocol, common, OPPOSITE[dir] ?? 'sendrecv');
    }
    // Rejected stream (RFC 3264 section 6): port 0, the offered formats repeated.
    return `m=${m.type} 0 ${m.protocol} ${String(m.payloads ?? '0')}\r\n`;
  });
  if (!chosen || !remote) return undefined;
  const id = local.sessionId ?? Math.floor(Date.now() / 1000);
  return { sdp: formatSdp(local.address, id, local.sessionVersion ?? id, media), codecs: chosen, remote };
}
