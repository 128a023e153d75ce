/** The one persisted part of presence: each user's own settings (see presence-settings-store.ts). */

export interface PresenceSettingsTable {
  user_id: string;
  tenant_id: string;
  /** JSON of UserPresenceSettings (instants in ms). */
  settings: string;
  updated_at: number;
}

export interface PresenceTables {
  presence_settings: PresenceSettingsTable;
}
