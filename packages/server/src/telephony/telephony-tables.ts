/** Tables of carriers' trunks, numbers and dial plans (see telephony-store.ts, migration 015_telephony). */
export interface TelephonyTrunksTable {
  carrier_id: string;
  tenant_id: string | null;
  /** JSON: `{ host, port }[]`. */
  addresses: string;
  transport: string;
  /** JSON: source addresses. */
  allow: string;
  /** JSON: codec names in order. */
  codecs: string;
  caller_id_format: string;
  channel_limit: number | null;
  enabled: number;
  created_at: number;
  /** `ip` or `register` (migration 017). */
  auth: string;
  /** JSON: the TrunkRegistration, or null. */
  registration: string | null;
  identity: string;
  health_check: number;
  /** Least-cost routing's tie-break, lower first (migration 018). */
  preference: number;
  /** 1: the carrier for emergency calls (migration 020). */
  emergency: number;
  /** 1: emergency calls carry the caller's location as PIDF-LO (RFC 6442). */
  pidf_lo: number;
}

/** A named civic address of a tenant (migration 020): users point at it. */
export interface EmergencySitesTable {
  id: string;
  tenant_id: string;
  name: string;
  /** JSON: the CivicAddress. */
  address: string;
  created_at: number;
  updated_at: number;
}

/** A user's emergency location: a site, or an address of their own (JSON), or neither. */
export interface EmergencyUserLocationsTable {
  tenant_id: string;
  user_id: string;
  site_id: string | null;
  address: string | null;
  updated_at: number;
}

/** A tenant's emergency settings: the callback number of callers with no number of their own. */
export interface EmergencySettingsTable {
  tenant_id: string;
  callback_number: string | null;
}

/** Per-user telephony settings (migration 017): a user who withholds their number on every call. */
export interface TelephonyUserSettingsTable {
  tenant_id: string;
  user_id: string;
  withhold_caller_id: number;
}

export interface TelephonyNumbersTable {
  number: string;
  carrier_id: string;
  tenant_id: string | null;
  user_id: string | null;
  created_at: number;
}

export interface TelephonyDialPlansTable {
  tenant_id: string;
  country: string;
}

export interface TelephonyTables {
  telephony_trunks: TelephonyTrunksTable;
  telephony_numbers: TelephonyNumbersTable;
  telephony_dial_plans: TelephonyDialPlansTable;
  telephony_user_settings: TelephonyUserSettingsTable;
  emergency_sites: EmergencySitesTable;
  emergency_user_locations: EmergencyUserLocationsTable;
  emergency_settings: EmergencySettingsTable;
}
