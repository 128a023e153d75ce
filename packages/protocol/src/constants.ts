/**
 * The protocol's plain values, which need no schema: kept apart from the zod schemas so a browser bundle
 * that uses only these (the SDK's link and error handling) does not carry zod. Re-exported where they
 * belong (realtime.ts, api.ts).
 */

export const PROTOCOL_VERSION = 1;

/** WebSocket close codes (4000-4999 are the application's). */
export const RealtimeCloseCodes = {
  /** The client closed on purpose: its devices go offline without grace. */
  normal: 1000,
  goingAway: 1001,
  /** Protocol violation (no hello within the heartbeat interval). */
  policy: 1008,
  /** A frame above the hard limit (smaller oversized frames get a coded error instead). */
  tooBig: 1009,
  unauthorized: 4001,
  sessionRevoked: 4003,
  /** No frame (not even a pong) within the heartbeat timeout. */
  heartbeatTimeout: 4008,
  /** Kept flooding after being throttled. */
  flooding: 4029,
} as const;

/** Most rows one bulk request may carry; a CSV import sends its rows in batches of at most this. */
export const BULK_USERS_MAX = 500;

/** What kind of number a call goes to, as a rate deck's row says (the server's destination-class.ts). */
export const DESTINATION_CLASSES = [
  'domestic',
  'mobile',
  'international',
  'toll-free',
  'premium',
  'emergency',
] as const;

/** Services a plan may include. */
export const SERVICES = ['calling', 'voicemail', 'meetings', 'messaging', 'recording'] as const;
