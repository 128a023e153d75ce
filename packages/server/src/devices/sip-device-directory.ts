/**
 * The lookup the SIP edge uses to turn what a phone says into Parley's people: the registrar (which
 * device a digest user name is, whose binding it makes) and phone calls (who an extension dialled on a
 * phone is). Implemented by the device store on the database (device-store.ts); tests of the SIP side
 * pass a small fake.
 *
 * Both lookups come from the SIP edge, where there is no signed-in principal: the device lookup is keyed
 * by the realm the phone authenticated in (a tenant's domain), and the extension lookup by the tenant
 * of the device that dialled, which the edge learned from the first.
 */

/** A SIP device as the SIP edge needs it. */
export interface SipDeviceIdentity {
  deviceId: string;
  tenantId: string;
  userId: string;
  /** The name the tenant admin gave it ("Desk phone"), for logs and the user's device list. */
  name: string;
}

/** A user found by extension. */
export interface ExtensionOwner {
  userId: string;
  address: string;
  displayName: string;
}

export interface SipDeviceDirectory {
  /**
   * The device whose SIP user name is `username` in `domain` (the digest realm, any case), or null. Null
   * as well when its user is disabled or its tenant suspended: such a device is no longer anyone's.
   */
  deviceByUsername(domain: string, username: string): Promise<SipDeviceIdentity | null>;
  /** The enabled user of `tenantId` whose extension is `extension`, or null. */
  userByExtension(tenantId: string, extension: string): Promise<ExtensionOwner | null>;
}

/**
 * Bus topic `sip.device.revoked`: a device was removed, or its password reset (the old password may be
 * known to someone else), after the change committed and the registrar dropped the device's bindings
 * (the composition root wires that directly, so it is done before the admin is answered).
 */
export interface SipDeviceRevokedEvent {
  tenantId: string;
  userId: string;
  deviceId: string;
  reason: 'removed' | 'password_reset';
}

declare module '../bus/bus.ts' {
  interface BusEvents {
    'sip.device.revoked': SipDeviceRevokedEvent;
  }
}
