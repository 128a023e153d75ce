/** The bus events auth publishes: access that ends now, which open connections must follow. */
export interface UserDisabledEvent {
  tenantId: string;
  userId: string;
}

export interface SessionRevokedEvent {
  tenantId: string;
  userId: string;
  sessionId: string;
}

export interface TenantSuspendedEvent {
  tenantId: string;
}

declare module '../bus/bus.ts' {
  interface BusEvents {
    /** A user's access ends now: disabled, deleted. */
    'user.disabled': UserDisabledEvent;
    /** A refresh session was revoked: its access tokens and connections end now. */
    'session.revoked': SessionRevokedEvent;
    /** The operator suspended a tenant: every connection of its users and keys ends now. */
    'tenant.suspended': TenantSuspendedEvent;
  }
}
