/** The stored registrations (see registration-store.ts, migration 013_sip_registrations). */

/**
 * One binding of a device's address-of-record to a contact (RFC 3261 section 10). No foreign keys:
 * the device belongs to the devices tables, and a removed device's bindings are dropped by the
 * registrar when its next lookup fails (or when they lapse).
 */
export interface SipRegistrationsTable {
  binding_id: string;
  tenant_id: string;
  user_id: string;
  device_id: string;
  aor: string;
  /** The Contact URI, canonical form (the key of the binding within its device). */
  contact: string;
  /** The flow the REGISTER came on: protocol, source address and port (RFC 3581). */
  protocol: string;
  address: string;
  port: number;
  call_id: string;
  cseq: number;
  /** q times 1000 (an integer on both engines). */
  q: number;
  instance: string | null;
  user_agent: string | null;
  registered_at: number;
  expires_at: number;
}

export interface SipRegistrationTables {
  sip_registrations: SipRegistrationsTable;
}
