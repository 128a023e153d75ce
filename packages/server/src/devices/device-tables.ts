/** Tables of SIP devices and extensions (see device-store.ts, extension-store.ts, migration 012_sip_devices). */

/** One SIP device of a user, with the digest HA1s of its password (never the password). */
export interface SipDevicesTable {
  id: string;
  tenant_id: string;
  user_id: string;
  name: string;
  /** The SIP and digest user name, lower case. */
  username: string;
  /** The user's address domain at creation: the realm the HA1s are computed in. */
  domain: string;
  /** Hex MD5(username:domain:password). */
  ha1_md5: string;
  /** Hex SHA-256(username:domain:password). */
  ha1_sha256: string;
  created_at: number;
  password_set_at: number;
}

/** A user's extension: a short number, unique within the tenant. */
export interface UserExtensionsTable {
  user_id: string;
  tenant_id: string;
  extension: string;
}

export interface DeviceTables {
  sip_devices: SipDevicesTable;
  user_extensions: UserExtensionsTable;
}
