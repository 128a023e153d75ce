/**
 * The realtime protocol, version 1: JSON text frames over the WebSocket at `/api/realtime`.
 *
 * Every frame is an object with a type `t`. Client requests carry an `id` (a client-chosen integer) and
 * are answered by exactly one `result` or `error` frame with `re` set to that id. The server also
 * pushes frames without `re`: presence changes, durable events and notices of its own errors.
 *
 * ```
 *  client                                  server
 *  ── upgrade (Bearer token) ──────────────▶ authenticates, or 401/403 before any WebSocket
 *  ── hello {v, device, resume?} ─────────▶
 *  ◀───────────────────── result {welcome} ─ resume: 'resumed' | 'fresh' | 'expired'
 *  ◀─────────── event {seq} (missed ones) ─ in seq order, never twice, when resumed
 *  ── presence.subscribe {userIds} ───────▶
 *  ◀────────────── result {presences, refused}
 *  ◀───────────────────── presence {...} ─ every later change of a watched user
 *  ── ping ────────────────────────────────▶ ◀── pong (heartbeat; any frame counts as liveness)
 * ```
 *
 * Durable events (chat messages, call records, notices) are numbered per user by a strictly increasing
 * `seq`. A client remembers the highest seq it has processed and sends it in `hello.resume.lastSeq` when
 * it reconnects; within the resume window the server replays every later event, in order. Ephemeral
 * state (presence, typing) is never replayed: the client subscribes again and gets a fresh snapshot.
 *
 * Versioning: `hello.v` names the protocol version the client speaks; the server answers with the one it
 * will use or refuses with `unsupported_version`. Additive changes (new optional fields, new push types,
 * which clients ignore) keep the version; anything else bumps it.
 */
import { z } from 'zod';
import { PROTOCOL_VERSION, RealtimeCloseCodes } from './constants.ts';
import { Presence, PresencePublish, PresenceSet, RefusedSubscription, UserIdList } from './presence.ts';
import {
  ChatClientFrames,
  ChatServerFrames,
  ChatWelcome,
  ReadResponse,
  type ChatEventData,
  type Message,
} from './chat.ts';
import {
  CallClientFrames,
  CallServerFrames,
  CallsWelcome,
  type CallEventData,
  type CallView,
} from './calls.ts';

export { PROTOCOL_VERSION, RealtimeCloseCodes };

const RequestId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A device's self-description, sent once in hello. */
export const DeviceInfo = z.strictObject({
  /** Client-generated, stable across reconnects of one client instance: a reconnect replaces its old device. */
  id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  kind: z.enum(['web', 'desktop', 'mobile', 'bot', 'other']).default('other'),
});
export type DeviceInfo = z.infer<typeof DeviceInfo>;

export const Hello = z.strictObject({
  t: z.literal('hello'),
  id: RequestId,
  v: z.number().int().min(1),
  device: DeviceInfo.optional(),
  /** The highest durable event seq this client has processed (0: none yet). */
  resume: z
    .strictObject({
      lastSeq: z.number().int().min(0),
      /** The `chat.cursor` of the previous welcome: `welcome.chat.changed` lists conversations changed since. */
      chatSince: z.number().int().min(0).optional(),
    })
    .optional(),
});

export const Ping = z.strictObject({ t: z.literal('ping'), id: RequestId });

export const PublishPresence = z.strictObject({
  t: z.literal('presence.publish'),
  id: RequestId,
  state: PresencePublish,
});
export const SetPresence = z.strictObject({
  t: z.literal('presence.set'),
  id: RequestId,
  settings: PresenceSet,
});
export const Subscribe = z.strictObject({
  t: z.literal('presence.subscribe'),
  id: RequestId,
  userIds: UserIdList,
});
export const Unsubscribe = z.strictObject({
  t: z.literal('presence.unsubscribe'),
  id: RequestId,
  userIds: UserIdList,
});

/** Every frame a client may send. */
export const ClientFrame = z.discriminatedUnion('t', [
  Hello,
  Ping,
  PublishPresence,
  SetPresence,
  Subscribe,
  Unsubscribe,
  ...ChatClientFrames,
  ...CallClientFrames,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type ClientFrameType = ClientFrame['t'];

/** The answer to hello. */
export const Welcome = z.object({
  v: z.number().int(),
  connectionId: z.string(),
  userId: z.string(),
  /** How often the client should ping; the server drops a connection silent for twice this. */
  heartbeatMs: z.number().int(),
  /** `resumed`: missed events follow; `fresh`: nothing to resume; `expired`: too old, refetch history. */
  resume: z.enum(['resumed', 'fresh', 'expired']),
  /** The user's highest durable event seq at the moment of hello. */
  lastSeq: z.number().int(),
  limits: z.object({
    maxFrameBytes: z.number().int(),
    maxSubscriptions: z.number().int(),
    messagesPerSecond: z.number(),
  }),
  /** Chat resume: conversations changed since `hello.resume.chatSince` (see chat.ts). */
  chat: ChatWelcome.optional(),
  /** Calls this device still takes part in (connected, or lost and within the grace): resume them. */
  calls: CallsWelcome.optional(),
});
export type Welcome = z.infer<typeof Welcome>;

export const SubscribeResult = z.object({
  presences: z.array(Presence),
  refused: z.array(RefusedSubscription),
});
export type SubscribeResult = z.infer<typeof SubscribeResult>;

/** What each request type answers with. */
export interface ResultOf {
  hello: Welcome;
  ping: Record<string, never>;
  'presence.publish': Presence;
  'presence.set': Presence;
  'presence.subscribe': SubscribeResult;
  'presence.unsubscribe': Record<string, never>;
  'chat.send': Message;
  'chat.typing': Record<string, never>;
  'chat.read': z.infer<typeof ReadResponse>;
  'call.place': CallView;
  'call.answer': CallView;
  'call.decline': Record<string, never>;
  'call.hangup': Record<string, never>;
  'call.sdp': Record<string, never>;
  'call.ice': Record<string, never>;
  'call.dtmf': Record<string, never>;
}

/** A durable event of one user, replayed on resume. Kinds grow with later issues. */
export const DurableEvent = z.object({
  seq: z.number().int().min(1),
  kind: z.string(),
  at: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type DurableEvent = z.infer<typeof DurableEvent>;

/** Durable event kinds defined so far and their data. */
export interface DurableEventData extends ChatEventData, CallEventData {
  /** A notice for the user from an administrator or the system. */
  notice: { text: string; from: string | null };
  /**
   * To each tenant admin, at once: a user of the organisation called an emergency number (issue 20).
   * `location` is the address sent with the call as words, or null when none is kept for the caller.
   */
  'emergency.call': {
    callerId: string;
    callerName: string;
    callerAddress: string;
    number: string;
    /** The callback number the emergency services were given, or null (none known). */
    callback: string | null;
    location: string | null;
    /** The site the caller is at, or null (their own address, or none). */
    site: string | null;
    at: string;
    /** Words for a notice: who called which number, when, from where. */
    text: string;
  };
  /** The user's contact list changed (on another device, or by an administrator). */
  'contacts.changed': {
    change: 'added' | 'updated' | 'removed' | 'groups';
    userId?: string;
    groupId?: string;
  };
}

export const ResultFrame = z.object({ t: z.literal('result'), re: z.number().int(), data: z.unknown() });
export const ErrorFrame = z.object({
  t: z.literal('error'),
  /** The request this answers; absent for errors about frames that could not be read. */
  re: z.number().int().optional(),
  code: z.string(),
  message: z.string(),
  field: z.string().optional(),
});
export type ErrorFrame = z.infer<typeof ErrorFrame>;
export const PresenceFrame = z.object({ t: z.literal('presence'), presence: Presence });
export const EventFrame = z.object({ t: z.literal('event'), event: DurableEvent });
export const PongFrame = z.object({ t: z.literal('pong'), re: z.number().int() });

/** Every frame the server may send. Clients ignore types they do not know (forward compatibility). */
export const ServerFrame = z.discriminatedUnion('t', [
  ResultFrame,
  ErrorFrame,
  PresenceFrame,
  EventFrame,
  PongFrame,
  ...ChatServerFrames,
  ...CallServerFrames,
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/** REST: a page of a user's durable events (for clients whose resume expired). */
export const EventsQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const EventsPage = z.object({ events: z.array(DurableEvent), lastSeq: z.number().int() });

/** REST: an administrator's notice to one user, delivered as a durable event. */
export const SendNoticeRequest = z.strictObject({ text: z.string().trim().min(1).max(2000) });
export const SendNoticeResponse = z.object({ seq: z.number().int() });
