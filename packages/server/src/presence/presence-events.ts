/**
 * The bus events presence publishes. Every node applies the other nodes' events to its own presence
 * table, so each can aggregate any user and push to its own watchers.
 */
import type { Activity } from '@parley/protocol';
import type { DevicePresenceState, UserPresenceSettings } from './presence-state.ts';

/** A device's presence changed, appeared (state set) or left (state null). */
export interface PresenceDeviceEvent {
  /** The presence service that decided it (it applied the change already and skips its own events). */
  origin: string;
  tenantId: string;
  userId: string;
  deviceKey: string;
  state: DevicePresenceState | null;
}

/** A user's own presence settings changed (manual availability, status note, out of office). */
export interface PresenceSettingsEvent {
  origin: string;
  tenantId: string;
  userId: string;
  settings: UserPresenceSettings;
}

/** The server set or cleared a user's activity (In a call), beside what their devices publish. */
export interface PresenceActivityEvent {
  origin: string;
  tenantId: string;
  userId: string;
  activity: Activity | null;
}

declare module '../bus/bus.ts' {
  interface BusEvents {
    'presence.device': PresenceDeviceEvent;
    'presence.settings': PresenceSettingsEvent;
    'presence.activity': PresenceActivityEvent;
  }
}
