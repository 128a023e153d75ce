/**
 * The in-memory shapes of presence: what one device reports and what a user sets for all their devices.
 * Instants are milliseconds since the epoch (the wire uses ISO 8601).
 */
import type { Activity, DeviceAvailability, ManualAvailability } from '@parley/protocol';

/** One connected device's own state. */
export interface DevicePresenceState {
  availability: DeviceAvailability;
  activity: Activity;
  /** No input on this device for a while: it counts as Away. */
  idle: boolean;
}

export const initialDeviceState = (): DevicePresenceState => ({
  availability: 'available',
  activity: 'none',
  idle: false,
});

/** A user's own settings, shared by their devices. Each may expire. */
export interface UserPresenceSettings {
  manual: { availability: ManualAvailability; until: number | null } | null;
  note: { text: string; until: number | null } | null;
  outOfOffice: { message: string; until: number | null } | null;
}

export const emptySettings = (): UserPresenceSettings => ({ manual: null, note: null, outOfOffice: null });

export const settingsEmpty = (s: UserPresenceSettings): boolean => !s.manual && !s.note && !s.outOfOffice;
