/**
 * Calls on the wire: the realtime frames that set up and carry a call between users, the call as a
 * client sees it, the durable events calls leave, and the REST shapes of call history and ICE servers.
 * Defined once for the server and the SDK.
 *
 * The server is the signalling relay and the referee: media flows end to end (WebRTC between the
 * devices, through TURN when a firewall forces it), but who rings, who won, and when the call ended are
 * decided on the server, by the call's state machine, and told to every device concerned.
 *
 * ```
 *  caller device              server                         callee devices (all connected ones)
 *  ── call.place {to, offer} ─▶ checks tenant, limits, DND
 *  ◀─ result {call: dialing} ──  ── call.incoming {call, offer, candidates} ──▶ each device rings
 *  ── call.ice {candidate} ───▶  ── call.ice ─────────────────────────────────▶ (every ringing device)
 *  ◀─ call.update {ringing} ───
 *                                ◀───────────────────── call.answer {answer} ── the first answer wins
 *  ◀─ call.update {connected} ─  ── result {call: connected} ─────────────────▶ the winner
 *  ◀─ call.sdp {answer} ───────  ── call.update {ended, answered_elsewhere} ──▶ the others stop ringing
 *  ◀──────── call.ice / call.sdp (trickle ICE, renegotiation, ICE restart) ───▶ (caller and winner only)
 *  ◀──────── call.dtmf {digits} (key presses; a phone's RFC 4733 events) ──────▶ (after the answer)
 *  ── call.hangup ────────────▶  ── call.update {ended, hangup} ──────────────▶
 * ```
 * A callee device may be a SIP phone (a registered contact the server rings with an INVITE, server
 * side, and bridges to RTP/AVP); to the caller it is one more ringing device.
 * Before the answer, only the caller trickles (its candidates are kept with the call and given to
 * devices that start ringing later); a ringing device sends its candidates only once it has answered.
 * After the answer, `call.sdp` carries a new offer or answer either way: camera on or off (adding or
 * removing video) and ICE restarts after a network change. A device whose realtime connection drops
 * mid-call keeps its place for `PARLEY_CALL_LOST_GRACE`; when it reconnects (same device id), the
 * welcome lists its calls (`welcome.calls`) and it restarts ICE with a new offer.
 *
 * Tenants: a call by address reaches users of the caller's own tenant only (`not_in_tenant`
 * otherwise). A party is described to the other by what it may see: another tenant's party (a phone
 * number call, later) is shown by its number only.
 */
import { z } from 'zod';
import { Id } from './api.ts';

const RequestId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** The largest SDP the server relays, bytes (a video offer from a browser is 5-10 kB). */
export const MAX_SDP_BYTES = 64 * 1024;

/** An SDP offer or answer as RTCSessionDescriptionInit carries it. The server parses it further. */
export const SessionDescription = z.strictObject({
  type: z.enum(['offer', 'answer']),
  sdp: z
    .string()
    .min(1)
    .max(MAX_SDP_BYTES)
    .refine((s) => s.startsWith('v=0'), 'must be an SDP session description (starting v=0)'),
});
export type SessionDescription = z.infer<typeof SessionDescription>;

/** One trickled ICE candidate as RTCIceCandidateInit carries it; `candidate: ''` ends the candidates. */
export const IceCandidate = z.strictObject({
  candidate: z
    .string()
    .max(1024)
    .refine((s) => s === '' || /^(a=)?candidate:/.test(s), 'must be an ICE candidate line'),
  sdpMid: z.string().max(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(255).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional(),
});
export type IceCandidate = z.infer<typeof IceCandidate>;

/** Whom to call: a user of your tenant by id, or by address (user@domain). Numbers come with the phone network. */
export const CallTarget = z.union([
  z.strictObject({ userId: Id }),
  z.strictObject({ address: z.string().trim().min(3).max(320) }),
  /**
   * A phone number as the user typed or pasted it (`+44 20 7946 0000`, `020 7946 0000`, `tel:` links,
   * an extension): the caller's tenant dial plan normalises it to E.164 and the record keeps both.
   */
  z.strictObject({ number: z.string().trim().min(1).max(64) }),
]);
export type CallTarget = z.infer<typeof CallTarget>;

/**
 * Where a call is, as a device sees it:
 * - `dialing`: placed, no device of the callee rings yet (outgoing only);
 * - `ringing`: at least one device of the callee rings (incoming: this device rings);
 * - `connected`: answered; the media are the two answered devices';
 * - `ended`: over, for the reason `endReason`.
 */
export const CallState = z.enum(['dialing', 'ringing', 'connected', 'ended']);
export type CallState = z.infer<typeof CallState>;

/**
 * Why a call (or, for `answered_elsewhere`, this device's part of it) ended:
 * - `hangup`: a party hung up after the answer (`endedBy` says who);
 * - `cancelled`: the caller hung up before the answer (a missed call for the callee);
 * - `declined`: the callee declined (the caller hears busy);
 * - `no_answer`: nobody answered within `PARLEY_CALL_RING_TIMEOUT` (a missed call);
 * - `unavailable`: the callee has no connected device (voicemail comes later; a missed call);
 * - `do_not_disturb`: the callee is in Do not disturb: nothing rang (a missed-call notice);
 * - `busy`: the callee already holds `PARLEY_CALL_MAX_PER_USER` calls;
 * - `answered_elsewhere`: another device of this user answered (only that device's view);
 * - `lost`: a device vanished mid-call and did not come back within `PARLEY_CALL_LOST_GRACE`;
 * - `failed`: the server could not carry the call (it restarted, or an internal error);
 * - `media_timeout`: a phone's media (RTP) stopped arriving for `PARLEY_MEDIA_TIMEOUT` (the phone lost
 *   power or its network without hanging up).
 */
export const CallEndReason = z.enum([
  'hangup',
  'cancelled',
  'declined',
  'no_answer',
  'unavailable',
  'do_not_disturb',
  'busy',
  'answered_elsewhere',
  'lost',
  'failed',
  'media_timeout',
]);
export type CallEndReason = z.infer<typeof CallEndReason>;

/**
 * The other party of a call as this user may see it: a colleague by id, name and address; another
 * tenant's party (a phone number call, later issues) by number only, never directory data.
 */
export const CallPeer = z.object({
  userId: z.string().nullable(),
  displayName: z.string().nullable(),
  address: z.string().nullable(),
  number: z.string().nullable(),
});
export type CallPeer = z.infer<typeof CallPeer>;

/** A call as one of its parties' devices sees it. */
export const CallView = z.object({
  id: z.string(),
  direction: z.enum(['outgoing', 'incoming']),
  state: CallState,
  /** The call was placed with video (each side may still turn its camera on or off). */
  video: z.boolean(),
  peer: CallPeer,
  createdAt: z.string(),
  answeredAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  endReason: CallEndReason.nullable(),
  /** Who ended it (a user id), when a party did. */
  endedBy: z.string().nullable(),
  /**
   * Why, in words, when the end reason alone does not say (a carrier's answer to a call out to a
   * number: "That number does not exist."); absent otherwise.
   */
  endDetail: z.string().nullable().optional(),
});
export type CallView = z.infer<typeof CallView>;

// --- realtime: client frames ---

/**
 * Place a call. Answer: the CallView (`dialing`, or `ringing` when a device rang at once; the server
 * today rings before it answers, so `ringing`), or `ended` at once with `busy`, `do_not_disturb` or
 * `unavailable` (no `call.update` follows those); or a coded refusal.
 */
export const CallPlace = z.strictObject({
  t: z.literal('call.place'),
  id: RequestId,
  to: CallTarget,
  video: z.boolean().default(false),
  offer: SessionDescription,
});
/** Answer a call ringing on this device. Answer: the CallView (`connected`); `call_state` if it was too late. */
export const CallAnswer = z.strictObject({
  t: z.literal('call.answer'),
  id: RequestId,
  callId: Id,
  answer: SessionDescription,
});
/** Decline a call ringing on this device: it stops ringing everywhere and the caller hears busy. Answer: {}. */
export const CallDecline = z.strictObject({ t: z.literal('call.decline'), id: RequestId, callId: Id });
/** Hang up (the caller before the answer: cancel). Answer: {}. */
export const CallHangup = z.strictObject({ t: z.literal('call.hangup'), id: RequestId, callId: Id });
/** A new offer or answer for the other party (renegotiation, ICE restart). Answer: {}. */
export const CallSdp = z.strictObject({
  t: z.literal('call.sdp'),
  id: RequestId,
  callId: Id,
  description: SessionDescription,
});
/** A trickled ICE candidate for the other party. Answer: {}. */
export const CallIce = z.strictObject({
  t: z.literal('call.ice'),
  id: RequestId,
  callId: Id,
  candidate: IceCandidate,
});
/** DTMF digits (RFC 4733 events 0-15): 0-9, `*`, `#` and A-D. */
export const DTMF_DIGITS = /^[0-9*#A-D]{1,32}$/;
/**
 * Key presses for the other party (a phone's menu, a PIN). Relayed as signalling, not in the media:
 * a phone leg turns them into RFC 4733 events on its RTP, and a phone's RFC 4733 events reach a browser
 * as `call.dtmf` pushes. Answer: {}; `call_state` before the answer.
 */
export const CallDtmf = z.strictObject({
  t: z.literal('call.dtmf'),
  id: RequestId,
  callId: Id,
  digits: z.string().regex(DTMF_DIGITS, 'digits are 1 to 32 of 0-9, *, #, A-D'),
});
export const CallClientFrames = [
  CallPlace,
  CallAnswer,
  CallDecline,
  CallHangup,
  CallSdp,
  CallIce,
  CallDtmf,
] as const;
export type CallClientFrame = z.infer<(typeof CallClientFrames)[number]>;

// --- realtime: server pushes ---

/** Pushed to every device of the callee that rings: the caller's offer and the candidates so far. */
export const CallIncomingFrame = z.object({
  t: z.literal('call.incoming'),
  call: CallView,
  offer: SessionDescription,
  candidates: z.array(IceCandidate),
});
/** Pushed when a call this device takes part in changes state (ringing, connected, ended). */
export const CallUpdateFrame = z.object({ t: z.literal('call.update'), call: CallView });
/** Pushed: the other party's new offer or answer. */
export const CallSdpFrame = z.object({
  t: z.literal('call.sdp'),
  callId: z.string(),
  description: SessionDescription,
});
/** Pushed: the other party's trickled ICE candidate. */
export const CallIceFrame = z.object({
  t: z.literal('call.ice'),
  callId: z.string(),
  candidate: IceCandidate,
});
/** Pushed: the other party pressed keys (a phone's RFC 4733 events arrive one digit per push). */
export const CallDtmfFrame = z.object({
  t: z.literal('call.dtmf'),
  callId: z.string(),
  digits: z.string(),
});
export const CallServerFrames = [
  CallIncomingFrame,
  CallUpdateFrame,
  CallSdpFrame,
  CallIceFrame,
  CallDtmfFrame,
] as const;
export type CallServerFrame = z.infer<(typeof CallServerFrames)[number]>;

/** What the welcome lists: the calls this device still holds a part in (to resume after a reconnect). */
export const CallsWelcome = z.array(CallView);

// --- durable events ---

/** The outcome of a call for one user's history. */
export const CallDisposition = z.enum(['answered', 'missed', 'declined', 'cancelled', 'busy', 'failed']);
export type CallDisposition = z.infer<typeof CallDisposition>;

/** Durable (per-user event log) call event kinds and their data. */
export interface CallEventData {
  /** A call to you was not answered (no answer, cancelled, offline, Do not disturb, busy). */
  'call.missed': { callId: string; from: CallPeer; at: string; reason: CallEndReason };
  /** A call of yours ended: history changed (refresh it). */
  'call.ended': {
    callId: string;
    direction: 'outgoing' | 'incoming';
    disposition: CallDisposition;
    durationSeconds: number;
  };
}

// --- REST ---

/**
 * What a phone call the user placed cost, and why (the rated call of billing): amounts are exact
 * decimal text in the operator's currency.
 */
export const CallPrice = z.object({
  /** What credits paid (0 when pool minutes covered it, or the call was free). */
  amount: z.string(),
  /** Why it costs what it costs: `pool`, `credits`, `pool_and_credits`, `free_rate`, `unanswered`, `emergency` ... */
  reason: z.string(),
  /** Seconds billed, after rounding up to the increments. */
  billableSeconds: z.number().int(),
  /** Included (pool) minutes the call drew. */
  poolMinutes: z.number().int(),
  /** Seconds paid from credit. */
  creditSeconds: z.number().int(),
  ratePerMinute: z.string(),
  connectionFee: z.string(),
  /** Billing increments in seconds: the first, then each next (60/60 per minute, 1/1 per second). */
  firstIncrement: z.number().int(),
  nextIncrement: z.number().int(),
  /** The rate deck's prefix that priced the number, and the destination's name in the deck. */
  matchedPrefix: z.string().nullable(),
  destinationName: z.string().nullable(),
  deck: z.object({ id: z.string(), version: z.number().int() }).nullable(),
});
export type CallPrice = z.infer<typeof CallPrice>;

/** One call in a user's history. */
export const CallHistoryEntry = z.object({
  callId: z.string(),
  direction: z.enum(['outgoing', 'incoming']),
  disposition: CallDisposition,
  endReason: CallEndReason.nullable(),
  peer: CallPeer,
  video: z.boolean(),
  startedAt: z.string(),
  answeredAt: z.string().nullable(),
  /** Null while the call is still going on. */
  endedAt: z.string().nullable(),
  /** From answer to end; 0 for calls never answered. */
  durationSeconds: z.number().int(),
  /** Missed calls: whether the user has seen it (the badge counts unseen missed calls). */
  seen: z.boolean(),
  /** A phone call the user placed, once rated: its price and why (absent for calls that are not rated). */
  price: CallPrice.optional(),
  /**
   * True for an on-net call: dialled by a number a user of this server owns, connected user to user,
   * free and with no carrier (across organisations each side shows the other's number only); absent
   * otherwise.
   */
  onNet: z.boolean().optional(),
});
export type CallHistoryEntry = z.infer<typeof CallHistoryEntry>;

export const CallHistoryQuery = z.strictObject({
  /** Calls started before this call's start (paging back from the newest). */
  before: Id.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  filter: z.enum(['all', 'missed']).default('all'),
});
export const CallHistoryPage = z.object({
  calls: z.array(CallHistoryEntry),
  /** Pass as `before` for the next (older) page; null when there is none. */
  next: z.string().nullable(),
  /** Missed calls not yet seen (the badge). */
  unseenMissed: z.number().int(),
});
export type CallHistoryPage = z.infer<typeof CallHistoryPage>;

/** Mark missed calls seen (all, or up to and including one call). Answer: the new badge count. */
export const MarkCallsSeenRequest = z.strictObject({ upTo: Id.optional() });
export const MarkCallsSeenResponse = z.object({ unseenMissed: z.number().int() });

/** ICE servers for RTCPeerConnection: STUN and short-lived TURN credentials (coturn's REST scheme). */
export const IceServer = z.object({
  urls: z.array(z.string()),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export const IceServersResponse = z.object({
  iceServers: z.array(IceServer),
  /** When the TURN credentials stop working (fetch again before); null without TURN. */
  expiresAt: z.string().nullable(),
});
export type IceServersResponse = z.infer<typeof IceServersResponse>;
