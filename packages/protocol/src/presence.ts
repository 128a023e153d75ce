/**
 * Presence on the wire: what a device publishes, what a user sets, and the aggregated presence that
 * watchers receive. The aggregation itself is the server's (see `packages/server/src/presence/aggregate.ts`);
 * these are only the shapes.
 */
import { z } from 'zod';
import { DisplayText, Id } from './api.ts';

/**
 * A user's aggregated availability as watchers see it, from most to least "do not bother me":
 * do_not_disturb > busy > be_right_back > away > available > offline.
 */
export const Availability = z.enum([
  'do_not_disturb',
  'busy',
  'be_right_back',
  'away',
  'available',
  'offline',
]);
export type Availability = z.infer<typeof Availability>;

/** What a user may choose by hand. `appear_offline` shows the user Offline to everyone else. */
export const ManualAvailability = z.enum([
  'available',
  'busy',
  'do_not_disturb',
  'be_right_back',
  'away',
  'appear_offline',
]);
export type ManualAvailability = z.infer<typeof ManualAvailability>;

/** What a device reports on its own (its automatic state); idle is reported separately. */
export const DeviceAvailability = z.enum(['available', 'busy', 'do_not_disturb', 'be_right_back', 'away']);
export type DeviceAvailability = z.infer<typeof DeviceAvailability>;

/**
 * What the user is doing. Devices report `none` today; calling and meetings (later issues) report the
 * others. An activity implies an availability: in a call or meeting is Busy, presenting is Do not disturb.
 */
export const Activity = z.enum(['none', 'in_a_call', 'in_a_meeting', 'presenting']);
export type Activity = z.infer<typeof Activity>;

/** An ISO 8601 instant in the future, for expiries ("Busy for 1 hour"). */
export const Expiry = z.iso.datetime({ offset: true });

export const StatusNote = z.object({ text: DisplayText(280), until: Expiry.nullable().default(null) });
export type StatusNote = z.infer<typeof StatusNote>;

export const OutOfOffice = z.object({ message: DisplayText(1000), until: Expiry.nullable().default(null) });
export type OutOfOffice = z.infer<typeof OutOfOffice>;

/** A user's presence as one watcher sees it. */
export const Presence = z.object({
  userId: z.string(),
  availability: Availability,
  activity: Activity,
  /** When a manually set availability ends (null: until changed, or none set). */
  manualUntil: z.string().nullable(),
  note: StatusNote.nullable(),
  outOfOffice: OutOfOffice.nullable(),
  /** When availability last changed (ISO 8601). */
  since: z.string(),
});
export type Presence = z.infer<typeof Presence>;

/**
 * A user's view of their own presence: what others see, plus the manual state behind it (others see
 * "Offline" for Appear offline; the user needs to know it is their own choice).
 */
export const OwnPresence = z.object({
  presence: Presence,
  manual: z.object({ availability: ManualAvailability, until: z.string().nullable() }).nullable(),
});
export type OwnPresence = z.infer<typeof OwnPresence>;

/** Device state published by one connection. Omitted fields keep their value. */
export const PresencePublish = z.strictObject({
  availability: DeviceAvailability.optional(),
  activity: Activity.optional(),
  /** True when the device has seen no input for a while (the client decides how long). */
  idle: z.boolean().optional(),
});
export type PresencePublish = z.infer<typeof PresencePublish>;

/** User-level settings, shared by all of a user's devices. Omitted: unchanged; null: cleared. */
export const PresenceSet = z.strictObject({
  manual: z
    .strictObject({ availability: ManualAvailability, until: Expiry.nullable().default(null) })
    .nullable()
    .optional(),
  note: StatusNote.nullable().optional(),
  outOfOffice: OutOfOffice.nullable().optional(),
});
export type PresenceSet = z.infer<typeof PresenceSet>;

/** A list of user ids to watch or stop watching. The server also caps the total per connection. */
export const UserIdList = z.array(Id).min(1).max(500);

/** One refused subscription target: `not_found` covers both unknown ids and other tenants' users. */
export const RefusedSubscription = z.object({ userId: z.string(), code: z.string() });
export type RefusedSubscription = z.infer<typeof RefusedSubscription>;
