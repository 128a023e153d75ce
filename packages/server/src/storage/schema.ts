/**
 * The database's tables as kysely sees them. Each domain declares its own tables next to its code and
 * they are composed here. Conventions, the same on SQLite and PostgreSQL: ids are text; booleans are
 * integers 0/1; instants are integer milliseconds since the epoch (bigint on PostgreSQL, read back as
 * numbers); money is integer micro-units.
 */
import type { Generated } from 'kysely';
import type { BillingTables } from '../billing/tables.ts';
import type { EventLogTables } from '../realtime/event-tables.ts';
import type { ContactTables } from '../contacts/contact-tables.ts';
import type { PresenceTables } from '../presence/presence-tables.ts';
import type { ChatTables } from '../chat/chat-tables.ts';
import type { DeviceTables } from '../devices/device-tables.ts';
import type { CallRecordTables } from '../calls/call-records-tables.ts';
import type { SipRegistrationTables } from '../sip/registration-tables.ts';
import type { TelephonyTables } from '../telephony/telephony-tables.ts';

export interface SettingsTable {
  key: string;
  value: string;
}

export interface TenantsTable {
  id: string;
  name: string;
  country: string;
  time_zone: string;
  /** 1 for the platform operator's own organisation. */
  is_operator: number;
  created_at: number;
  /** When the operator suspended the tenant; null while it is active. */
  suspended_at: number | null;
}

export interface DomainsTable {
  domain: string;
  tenant_id: string;
}

export interface UsersTable {
  id: string;
  tenant_id: string;
  address: string;
  display_name: string;
  /** Lower-cased display name, for prefix search. */
  search_name: string;
  title: string | null;
  department: string | null;
  role: 'user' | 'admin' | 'operator';
  enabled: number;
  password_hash: string | null;
  created_at: number;
  updated_at: number;
}

export interface AuthSessionsTable {
  id: string;
  user_id: string;
  tenant_id: string;
  /** SHA-256 of the refresh token; the token itself is never stored. */
  refresh_hash: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  source_address: string | null;
  user_agent: string | null;
}

/** A refresh token rotated away (its hash): presenting it again is reuse and ends its session. */
export interface AuthRefreshSpentTable {
  refresh_hash: string;
  session_id: string;
  /** When its session would expire; the row is pruned after. */
  expires_at: number;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  role: 'user' | 'admin';
  prefix: string;
  secret_hash: string;
  created_by: string | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuditLogTable {
  seq: Generated<number>;
  id: string;
  tenant_id: string | null;
  actor_id: string | null;
  actor_address: string | null;
  action: string;
  target: string | null;
  detail: string | null;
  source_address: string | null;
  at: number;
}

export interface CoreTables {
  settings: SettingsTable;
  tenants: TenantsTable;
  domains: DomainsTable;
  users: UsersTable;
  auth_sessions: AuthSessionsTable;
  auth_refresh_spent: AuthRefreshSpentTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
}

/** Every table. Later domains extend this with their own table maps. */
export interface Database
  extends
    CoreTables,
    BillingTables,
    EventLogTables,
    ContactTables,
    PresenceTables,
    ChatTables,
    CallRecordTables,
    DeviceTables,
    SipRegistrationTables,
    TelephonyTables {}
