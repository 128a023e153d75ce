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
}
