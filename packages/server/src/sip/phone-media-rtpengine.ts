/**
 * The PhoneMedia seam (phone-media.ts) over rtpengine media nodes (`PARLEY_MEDIA=rtpengine`), driven
 * with the `ng` client of @parley/media. Where the embedded driver makes each leg on its own and joins
 * two with a bridge, rtpengine carries both parties of a call as one of its calls (a `call-id` with
 * two tags): the first leg made sends rtpengine the other party's offer, the second takes its half of
 * rtpengine's reply. So legs are made in pairs, told of their partner (`PairWith`):
 *
 *   phone calls a browser (phone-caller.ts)        a browser calls a phone (phone-ringing.ts)
 *   answerRtp(phone's offer)  ─ ng offer ─┐         offerRtp({peerOffer: browser's}) ─ ng offer ─┐
 *     (RTP/AVP -> UDP/TLS/RTP/SAVPF, ICE force)    (SAVPF -> RTP/AVP, ICE remove, rtcp demux)
 *   offerWebRtc({peer}) <── rtpengine's offer ┘     phone's 200: rtp.accept(answer) ─ ng answer ─┐
 *   browser's answer: web.accept ─ ng answer ─┐       (-> SAVPF, ICE force, DTLS passive, mux)
 *   200 to the phone: rtp.sdp <── its answer ─┘     answerWebRtc(offer, {peer}) <── its answer ──┘
 *
 * with the flags PEERS.md measured (`full-rtcp-attribute`: werift's parser wants the long `a=rtcp:`).
 * Phone to phone: the calling phone's leg was paired with a WebRTC offer no browser took; `bridge`
 * moves it into the ringing phone's rtpengine call with a re-offer of its own SDP (the ringing phone's
 * ports do not change, it needs no re-INVITE) and the calling phone gets that call's answer.
 *
 * Health: every node is pinged each `PARLEY_RTPENGINE_PING`; one that does not answer (after the ng
 * client's retries) is marked down and each leg it carried reports 'timeout' (its call ends; the
 * record says `media_timeout`), and new legs go to another node that is up, or to the embedded driver
 * while none is. A leg without a partner (a caller that does not say one) goes to the embedded driver.
 *
 * DTMF: rtpengine sends each key press it sees as JSON over UDP to `--dtmf-log-dest`, which is
 * `PARLEY_RTPENGINE_DTMF`; the leg whose tag sent it emits 'dtmf', as the embedded driver's legs do.
 * Digits sent to a leg (a browser's keypad, `call.dtmf`) use the `play DTMF` command, which rtpengine
 * injects as RFC 4733 events only into streams set up with its `inject-DTMF` flag, so every offer and
 * answer carries it. That flag puts rtpengine's codec handler on the streams: it re-encodes and sends
 * on an SSRC of its own while its SDP still names the other party's (`a=ssrc` copied from it), and
 * Chromium drops packets on an SSRC other than the one it was told of (the phone's audio never reached
 * a browser that called it: 0 frames decoded). So the SDP given to a browser loses its `a=ssrc` lines
 * (`withoutSsrcs`): with one audio m-line Chromium takes the stream whatever its SSRC. Between two
 * phones (the ringing phone offered rtpengine's own WebRTC offer for a calling phone) the call is set
 * up without the flag: with it the calling phone's audio did not reach the other phone after the move,
 * and the phones' own RFC 4733 events pass through anyway.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { isNgError, MediaError, NgClient, type NgDict } from '@parley/media';
import type { IceCandidate } from '@parley/protocol';
import { codecsOf, parseSdp, TypedEmitter } from '@parley/sip';
import type { Logger } from 'pino';
import { z } from 'zod';
import type {
  PairWith,
  PhoneMedia,
  PhoneMediaLeg,
  PhoneMediaLegEvents,
  PhoneMediaStats,
  PhoneMediaStatsSink,
} from './phone-media.ts';

/** ng flags turning a browser's side into a phone's: plain RTP/AVP, no ICE, RTCP on its own port. */
const TO_PHONE: NgDict = {
  'transport-protocol': 'RTP/AVP',
  ICE: 'remove',
  DTLS: 'off',
  'rtcp-mux': ['demux'],
  SDES: ['off'],
  flags: ['inject-DTMF'],
};
/**
 * Between two phones nothing is injected (their own RFC 4733 events pass through): no `inject-DTMF`,
 * whose re-encoding left the calling phone's audio silent at the other phone here.
 */
const PHONE_TO_PHONE: NgDict = { ...TO_PHONE, flags: [] };
/** ng flags turning a phone's side into a browser's (PEERS.md's answer flags). */
const TO_BROWSER: NgDict = {
  'transport-protocol': 'UDP/TLS/RTP/SAVPF',
  ICE: 'force',
  DTLS: 'passive',
  SDES: ['off'],
  flags: ['full-rtcp-attribute', 'inject-DTMF'],
};

const DIGITS = '0123456789*#ABCD';

/** What rtpengine is asked to add (and transcode to) when a side offers no G.711. */
const TRANSCODE_TO_G711: NgDict = { codec: { transcode: ['PCMU', 'PCMA'] } };

/** Whether an SDP's first audio line offers PCMU or PCMA (an SDP that does not parse: false). */
export function offersG711(sdp: string): boolean {
  try {
    const audio = (parseSdp(sdp).media ?? []).find((m) => m.type === 'audio' && m.port !== 0);
    return !!audio && codecsOf(audio).some((c) => /^PCM[UA]$/i.test(c.name) && c.rate === 8000);
  } catch {
    return false;
  }
}

/**
 * rtpengine's SDP for a browser without the `a=ssrc` lines it copies from the other party's SDP: with
 * `inject-DTMF` rtpengine re-encodes the stream and sends it on an SSRC of its own, and Chromium,
 * told of an SSRC, drops every packet on another (0 frames decoded). Without the lines it takes the
 * stream on its one audio m-line whatever its SSRC.
 */
export function withoutSsrcs(sdp: string): string {
  return sdp.replace(/^a=ssrc(-group)?:[^\r\n]*\r?\n/gm, '');
}

function forRole(role: Role, sdp: string): string {
  return role === 'webrtc' ? withoutSsrcs(sdp) : sdp;
}

/** What rtpengine's `--dtmf-log-dest` sends (one JSON object per key press). */
const DtmfLog = z.object({
  callid: z.string(),
  source_tag: z.string(),
  event: z.number().int().min(0).max(15),
});

/** One rtpengine node, up or down. */
class Node {
  up = true;
  /** Legs it carries (their calls end if it goes down). */
  readonly legs = new Set<RtpengineLeg>();
  constructor(readonly ng: NgClient) {}
}

/** One rtpengine call (a `call-id`): deleted once (by the phone's leg, after its `query`). */
class NgCall {
  private deleted: Promise<NgDict | null> | undefined;
  /** Whether its streams carry `inject-DTMF` (not between two phones). */
  inject = true;
  constructor(
    readonly node: Node,
    readonly callId: string,
  ) {}
  delete(): Promise<NgDict | null> {
    this.deleted ??= this.node.up
      ? this.node.ng.delete({ 'call-id': this.callId }).catch(() => null)
      : Promise.resolve(null);
    return this.deleted;
  }
}

type Role = 'rtp' | 'webrtc';

class RtpengineLeg extends TypedEmitter<PhoneMediaLegEvents> implements PhoneMediaLeg {
  /** The partner's tag in the same rtpengine call (set when both exist). */
  partner: RtpengineLeg | undefined;
  /** rtpengine's SDP for this party as it wrote it (`sdp` is it for a browser, without `a=ssrc`). */
  rawSdp = '';
  /** This party's SDP as it offered or answered (kept for a phone-to-phone move). */
  remoteSdp = '';
  /** Whether this leg's party made the offer of its rtpengine call (`from-tag`) or answered it. */
  offerer = false;
  /** The answer rtpengine made for the partner, waiting for it (answerWebRtc after rtp.accept). */
  pendingForPartner: string | undefined;
  /** The Parley call it carries (a phone's leg: its statistics go to the record on close). */
  callId: string | undefined;
  /** Why its media stopped, when rtpengine went away under it. */
  private failure: string | null = null;
  closed = false;

  constructor(
    readonly driver: RtpenginePhoneMedia,
    public call: NgCall,
    readonly role: Role,
    public tag: string,
    public sdp: string,
  ) {
    super();
    call.node.legs.add(this);
  }

  /** The other party answered our offer. */
  async accept(answer: string): Promise<void> {
    const p = this.partner;
    if (!p)
      throw new MediaError('unexpected_answer', 'an rtpengine leg got an answer before its partner existed');
    this.remoteSdp = answer;
    const reply = await this.driver.request(this.call.node, 'answer', {
      'call-id': this.call.callId,
      'from-tag': p.tag,
      'to-tag': this.tag,
      sdp: answer,
      ...(p.role === 'webrtc' ? TO_BROWSER : TO_PHONE),
      ...(p.role === 'webrtc' ? { 'rtcp-mux': ['require'] } : {}),
      ...(this.call.inject ? {} : { flags: p.role === 'webrtc' ? ['full-rtcp-attribute'] : [] }),
    });
    p.sdp = forRole(p.role, String(reply.sdp));
    p.pendingForPartner = undefined;
  }

  async addRemoteCandidate(_c: IceCandidate): Promise<void> {
    // rtpengine learns the browser's address from its connectivity checks (peer-reflexive).
  }

  /** A browser's new offer (ICE restart): re-offered, then answered with the phone's last answer. */
  async renegotiate(offer: string): Promise<string> {
    const p = this.partner;
    if (!p) throw new MediaError('unexpected_answer', 'renegotiation before the call was joined');
    const base = { 'call-id': this.call.callId, 'from-tag': this.tag, 'to-tag': p.tag };
    await this.driver.request(this.call.node, 'offer', { ...base, sdp: offer, ...this.flagsToward(p) });
    const reply = await this.driver.request(this.call.node, 'answer', {
      'call-id': this.call.callId,
      'from-tag': this.tag,
      'to-tag': p.tag,
      sdp: p.remoteSdp,
      ...this.flagsToward(this),
    });
    this.sdp = forRole(this.role, String(reply.sdp));
    this.remoteSdp = offer;
    return this.sdp;
  }

  flagsToward(leg: RtpengineLeg): NgDict {
    return leg.role === 'webrtc' ? { ...TO_BROWSER, 'rtcp-mux': ['require'] } : TO_PHONE;
  }

  /** Key presses towards this leg's party: injected into its partner's stream towards it. */
  sendDtmf(digits: string): void {
    const p = this.partner;
    if (!p || this.closed) return;
    void (async () => {
      for (const d of digits.toUpperCase()) {
        if (!DIGITS.includes(d)) return;
        await this.driver
          .request(this.call.node, 'play DTMF', {
            'call-id': this.call.callId,
            'from-tag': p.tag,
            code: d,
            duration: 160,
          })
          .catch((err: unknown) => this.driver.log.debug({ err }, 'rtpengine play DTMF failed'));
        await new Promise((r) => setTimeout(r, 220));
      }
    })();
  }

  /** A key press rtpengine saw from this leg's party. */
  digit(d: string): void {
    if (!this.closed) this.emit('dtmf', d);
  }

  /** rtpengine went away under it: the media stopped. */
  lost(why: string): void {
    if (this.closed) return;
    this.failure = why;
    this.emit('timeout');
  }

  belongsTo(callId: string): void {
    this.callId = callId;
  }

  /** This (phone's) leg's statistics from its call's `query` reply, or the failure when the node went. */
  private stats(final: NgDict | null): PhoneMediaStats {
    const none = {
      driver: 'rtpengine' as const,
      packetsIn: null,
      packetsOut: null,
      lossPct: null,
      jitterMs: null,
    };
    if (this.failure) return { ...none, failure: this.failure };
    if (!final) return { ...none, failure: null };
    return { ...queryStats(final, this.tag, this.partner?.tag), failure: null };
  }

  move(call: NgCall, tag: string): void {
    this.call.node.legs.delete(this);
    this.driver.forget(this);
    this.call = call;
    this.tag = tag;
    call.node.legs.add(this);
    this.driver.remember(this);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.call.node.legs.delete(this);
    this.driver.forget(this);
    const callId = this.callId;
    const sink = this.driver.statsSink;
    const p = this.partner;
    if (callId && sink) {
      // The phone's leg reads the call's figures (`query`) before the call is deleted.
      const q = this.failure
        ? null
        : await this.driver
            .request(this.call.node, 'query', { 'call-id': this.call.callId })
            .catch(() => null);
      sink(callId, this.stats(q));
      await this.call.delete();
    } else if (!(p && !p.closed && p.callId && p.call === this.call)) {
      await this.call.delete(); // else the phone's leg, closing too, deletes it after its query
    }
    this.emit('close');
  }
}

export interface RtpenginePhoneMediaOptions {
  /** The nodes' ng addresses, `host:port` (`PARLEY_RTPENGINE_NG`). */
  nodes: string[];
  /** Where legs go while no node is up, and legs without a partner. */
  fallback: PhoneMedia;
  /** One ng try's wait, ms, and resends (`PARLEY_RTPENGINE_TIMEOUT_MS`, `PARLEY_RTPENGINE_RETRIES`). */
  timeoutMs: number;
  retries: number;
  /** Health ping interval, ms (`PARLEY_RTPENGINE_PING`). */
  pingMs: number;
  /** `host:port` to receive rtpengine's DTMF events on (`PARLEY_RTPENGINE_DTMF`). */
  dtmf?: string;
  /** Whether rtpengine may transcode a call whose sides share no G.711 (`PARLEY_RTPENGINE_TRANSCODE`, default true). */
  transcode?: boolean;
  /** Where a phone leg's statistics go when it closes (the call records). */
  stats?: PhoneMediaStatsSink;
  log: Logger;
}

const Stream = z.object({
  flags: z.array(z.string()).default([]),
  stats: z.object({ packets: z.number() }).optional(),
  SSRC: z.number().optional(),
});
const Tag = z.object({ medias: z.array(z.object({ streams: z.array(Stream).default([]) })).default([]) });
const Quality = z.object({ jitter: z.number().optional(), 'packet loss': z.number().optional() });
const SsrcStats = z.object({ 'average MOS': Quality.optional() }).passthrough();

/**
 * A `query` reply read for one phone's tag: a tag's RTP stream counts what its party sent (so `in` is
 * the phone's, `out` its partner's, relayed to the phone); loss and jitter come from the RTCP-fed
 * per-SSRC figures of the phone's stream (null until RTCP reported any).
 */
export function queryStats(
  q: NgDict,
  tag: string,
  partner: string | undefined,
): Omit<PhoneMediaStats, 'failure' | 'driver'> & { driver: 'rtpengine' } {
  const tags = (q.tags ?? {}) as Record<string, unknown>;
  const rtpOf = (t: string | undefined) => {
    const parsed = t ? Tag.safeParse(tags[t]) : undefined;
    if (!parsed?.success) return undefined;
    return parsed.data.medias.flatMap((m) => m.streams).find((s) => s.flags.includes('RTP'));
  };
  const mine = rtpOf(tag);
  const theirs = rtpOf(partner);
  const ssrcs = (q.SSRC ?? {}) as Record<string, unknown>;
  // The phone's stream's SSRC as its partner's stream sends it on (rtpengine lists the SSRC it
  // forwards on the other side's stream); either way, take what the reports say about it.
  let jitter: number | null = null;
  let loss: number | null = null;
  for (const key of [theirs?.SSRC, mine?.SSRC]) {
    if (key === undefined) continue;
    const s = SsrcStats.safeParse(ssrcs[String(key)]);
    const avg = s.success ? s.data['average MOS'] : undefined;
    if (avg?.jitter !== undefined && jitter === null) jitter = avg.jitter;
    if (avg?.['packet loss'] !== undefined && loss === null) loss = avg['packet loss'];
  }
  return {
    driver: 'rtpengine',
    packetsIn: mine?.stats?.packets ?? null,
    packetsOut: theirs?.stats?.packets ?? null,
    lossPct: loss,
    jitterMs: jitter,
  };
}

function hostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
}

export class RtpenginePhoneMedia implements PhoneMedia {
  readonly nodes: Node[];
  private next = 0;
  private readonly byTag = new Map<string, RtpengineLeg>();
  private readonly pinger: NodeJS.Timeout;
  private dtmfSocket: Socket | undefined;
  readonly log: Logger;
  readonly statsSink: PhoneMediaStatsSink | undefined;

  constructor(private readonly o: RtpenginePhoneMediaOptions) {
    this.log = o.log;
    this.statsSink = o.stats;
    this.nodes = o.nodes.map(
      (a) => new Node(new NgClient({ ...hostPort(a), timeoutMs: o.timeoutMs, retries: o.retries })),
    );
    this.pinger = setInterval(() => void this.checkHealth(), o.pingMs);
    this.pinger.unref();
  }

  /** Binds the DTMF event socket (when `dtmf` is set). */
  async start(): Promise<void> {
    if (!this.o.dtmf) return;
    const { host, port } = hostPort(this.o.dtmf);
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.on('message', (msg) => this.onDtmf(msg));
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, host, () => {
        s.off('error', reject);
        resolve();
      });
    });
    this.dtmfSocket = s;
  }

  private onDtmf(msg: Buffer): void {
    let e;
    try {
      e = DtmfLog.parse(JSON.parse(msg.toString('utf8')));
    } catch {
      return;
    }
    const leg = this.byTag.get(`${e.callid} ${e.source_tag}`);
    const digit = DIGITS[e.event];
    if (leg && digit) leg.digit(digit);
  }

  remember(leg: RtpengineLeg): void {
    this.byTag.set(`${leg.call.callId} ${leg.tag}`, leg);
  }

  forget(leg: RtpengineLeg): void {
    if (this.byTag.get(`${leg.call.callId} ${leg.tag}`) === leg)
      this.byTag.delete(`${leg.call.callId} ${leg.tag}`);
  }

  /** Pings every node; a silent one is marked down (its legs lost), an answering one up. */
  async checkHealth(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (n) => {
        const ok = await n.ng.ping().catch(() => false);
        if (ok && !n.up) this.log.info({ node: n.ng.address }, 'rtpengine node answers again');
        if (ok) n.up = true;
        else this.down(n);
      }),
    );
  }

  private down(n: Node): void {
    if (!n.up) return;
    n.up = false;
    this.log.warn({ node: n.ng.address, legs: n.legs.size }, 'rtpengine node stopped answering: marked down');
    for (const leg of [...n.legs]) leg.lost(`rtpengine node ${n.ng.address} stopped answering`);
  }

  /** One ng request; a node that does not answer is marked down and the error rethrown. */
  async request(n: Node, command: string, params: NgDict): Promise<NgDict> {
    try {
      return await n.ng.request(command, params);
    } catch (err) {
      if (isNgError(err, 'ng_timeout')) this.down(n);
      if (isNgError(err, 'ng_refused')) throw new MediaError('invalid_sdp', err.message, { cause: err });
      throw err;
    }
  }

  /** The next node that is up (round robin), or undefined. */
  private pick(): Node | undefined {
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[(this.next++ + i) % this.nodes.length]!;
      if (n.up) return n;
    }
    return undefined;
  }

  /** A new rtpengine call from `offer` of a party `offererRole`, towards `toward`; two legs, paired. */
  private async start2(
    offer: string,
    offererRole: Role,
    toward: Role,
    inject = true,
  ): Promise<[RtpengineLeg, RtpengineLeg] | null> {
    const transcode = !offersG711(offer);
    if (transcode && this.o.transcode === false)
      throw new MediaError(
        'no_common_codec',
        `the ${offererRole === 'webrtc' ? "browser's" : "phone's"} offer has no G.711 and transcoding on ` +
          'rtpengine is off (PARLEY_RTPENGINE_TRANSCODE=false): the call is refused',
      );
    for (let tries = 0; tries < this.nodes.length; tries++) {
      const node = this.pick();
      if (!node) return null;
      const call = new NgCall(node, `parley-${randomBytes(9).toString('base64url')}`);
      call.inject = inject;
      const fromTag = `${offererRole}-${randomBytes(6).toString('hex')}`;
      const toTag = `${toward}-${randomBytes(6).toString('hex')}`;
      let reply: NgDict;
      try {
        reply = await this.request(node, 'offer', {
          'call-id': call.callId,
          'from-tag': fromTag,
          sdp: offer,
          ...(toward === 'webrtc' ? { ...TO_BROWSER, 'rtcp-mux': ['offer'] } : TO_PHONE),
          ...(inject ? {} : { flags: toward === 'webrtc' ? ['full-rtcp-attribute'] : [] }),
          ...(transcode ? TRANSCODE_TO_G711 : {}),
        });
      } catch (err) {
        if (isNgError(err, 'ng_timeout')) continue; // that node is down now: the next one
        throw err;
      }
      if (transcode && !offersG711(String(reply.sdp))) {
        await call.delete();
        throw new MediaError(
          'no_common_codec',
          `rtpengine node ${node.ng.address} did not transcode to G.711 (its build has no codecs?): ` +
            'the two sides share no G.711',
        );
      }
      const a = new RtpengineLeg(this, call, offererRole, fromTag, '');
      const b = new RtpengineLeg(this, call, toward, toTag, forRole(toward, String(reply.sdp)));
      b.rawSdp = String(reply.sdp);
      a.offerer = true;
      a.remoteSdp = offer;
      a.partner = b;
      b.partner = a;
      this.remember(a);
      this.remember(b);
      return [a, b];
    }
    return null;
  }

  async offerRtp(o?: PairWith): Promise<PhoneMediaLeg> {
    if (o?.peerOffer && this.pick()) {
      // A WebRTC offer this driver wrote (a calling phone's partner nobody took) is phone to phone:
      // no key presses to inject, and the phones' own RFC 4733 events pass through.
      // rtpengine gets its own SDP back as it wrote it (with its `a=ssrc` lines).
      const ours = [...this.byTag.values()].find((l) => l.role === 'webrtc' && l.sdp === o.peerOffer);
      const pair = await this.start2(ours?.rawSdp ?? o.peerOffer, 'webrtc', 'rtp', !ours);
      if (pair) {
        // The browser's leg waits for answerWebRtc(offer, {peer}); the phone's is returned.
        pair[1].pendingForPartner = 'waiting';
        return pair[1];
      }
    }
    return this.o.fallback.offerRtp(o);
  }

  async answerRtp(offer: string): Promise<PhoneMediaLeg> {
    const pair = this.pick() ? await this.start2(offer, 'rtp', 'webrtc') : null;
    if (!pair) return this.o.fallback.answerRtp(offer);
    return pair[0];
  }

  async offerWebRtc(o?: PairWith): Promise<PhoneMediaLeg> {
    const peer = o?.peer;
    if (peer instanceof RtpengineLeg && peer.partner) return peer.partner;
    return this.o.fallback.offerWebRtc(o);
  }

  async answerWebRtc(offer: string, o?: PairWith): Promise<PhoneMediaLeg> {
    const peer = o?.peer;
    if (peer instanceof RtpengineLeg && peer.partner) {
      const web = peer.partner;
      if (!web.sdp) throw new MediaError('unexpected_answer', 'the phone has not answered yet');
      web.remoteSdp = offer;
      return web;
    }
    return this.o.fallback.answerWebRtc(offer, o);
  }

  async bridge(a: PhoneMediaLeg, b: PhoneMediaLeg): Promise<void> {
    if (a instanceof RtpengineLeg && b instanceof RtpengineLeg) {
      if (a.call === b.call) return; // rtpengine relays them already
      await this.joinPhones(a, b).catch((err: unknown) => {
        this.log.warn({ err }, 'joining two phones on rtpengine failed');
        void a.close();
        void b.close();
      });
      return;
    }
    if (!(a instanceof RtpengineLeg) && !(b instanceof RtpengineLeg)) return this.o.fallback.bridge(a, b);
    this.log.warn('a leg on rtpengine cannot be joined with one on the embedded driver');
    void a.close();
    void b.close();
  }

  /**
   * Phone to phone: `caller` (an answering leg whose partner was a WebRTC offer nobody took) moves into
   * `callee`'s call, in place of its partner: re-offer the caller's SDP as that tag, answer with the
   * callee's last answer; the reply is the caller's answer (read as its `sdp` for the 200).
   */
  private async joinPhones(x: RtpengineLeg, y: RtpengineLeg): Promise<void> {
    const [caller, callee] = x.offerer ? [x, y] : [y, x];
    const into = callee.call;
    const seat = callee.partner!;
    const old = caller.call;
    const base = { 'call-id': into.callId, 'from-tag': seat.tag, 'to-tag': callee.tag };
    await this.request(into.node, 'offer', { ...base, sdp: caller.remoteSdp, ...PHONE_TO_PHONE });
    const reply = await this.request(into.node, 'answer', {
      ...base,
      sdp: callee.remoteSdp,
      ...PHONE_TO_PHONE,
    });
    this.forget(seat);
    into.node.legs.delete(seat);
    caller.move(into, seat.tag);
    caller.partner = callee;
    callee.partner = caller;
    caller.sdp = String(reply.sdp);
    await old.delete();
  }

  /** Stops pinging, closes the ng sockets and the DTMF socket (legs close with their calls). */
  async close(): Promise<void> {
    clearInterval(this.pinger);
    for (const n of this.nodes) n.ng.close();
    this.dtmfSocket?.close();
  }
}
