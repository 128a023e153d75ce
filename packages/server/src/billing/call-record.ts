/**
 * The call record billing consumes. Telephony writes call records; billing never imports telephony,
 * so this is billing's own definition of what it needs from one. It is a plain value.
 */
export interface CallRecord {
  /** Unique per call; rating is idempotent per call id. */
  id: string;
  tenantId: string;
  /** The calling user (outbound) or the called user (inbound); null for calls of no user. */
  userId: string | null;
  /** Inbound calls draw no minutes and cost nothing. */
  direction: 'outbound' | 'inbound';
  /** As dialled: an E.164 number (+442071234567) or a short code (112). */
  destination: string;
  /** Epoch ms when the call was placed; decides the deck version and the pool's month. */
  startedAt: number;
  /** Epoch ms when the far end answered; null if it never did. */
  answeredAt: number | null;
  /** Epoch ms when the call ended. */
  endedAt: number;
  /** ISO country whose pools the call draws (the user's usage location); the tenant's country if absent. */
  callerCountry?: string;
}
