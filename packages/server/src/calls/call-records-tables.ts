/** Tables of the call records (CDRs; see call-records.ts, call-history.ts, migration 011_calls). */

/**
 * One call as one tenant keeps it: a call between two users of one tenant is one row; a call between
 * tenants (a phone number reaching another tenant's user, later issues) is one row per tenant, each
 * naming the other tenant's party by number only (its user id stays null here).
 */
export interface CallRecordsTable {
  call_id: string;
  tenant_id: string;
  /** `internal` (user to user) today; `inbound` / `outbound` (the phone network) later. */
  direction: 'internal' | 'inbound' | 'outbound';
  /** The caller, when it is a user of this tenant. */
  caller_user_id: string | null;
  caller_number: string | null;
  callee_user_id: string | null;
  callee_number: string | null;
  /** The caller's device key. */
  caller_device: string | null;
  /** JSON array of the device keys that rang (null: none rang). */
  rung_devices: string | null;
  answer_device: string | null;
  /** The carrier the call went through (phone calls, later); null for calls between users. */
  carrier: string | null;
  /** 1: placed with video. */
  video: number;
  placed_at: number;
  ringing_at: number | null;
  answered_at: number | null;
  /** Null while the call is going on (an open record). */
  ended_at: number | null;
  /**
   * The last instant the server knew the call was alive: refreshed every PARLEY_CALL_RECORD_ALIVE_MS
   * while open, and by every change of the record. A crash leaves it, and the next start ends the
   * record at it, so a recovered call is never longer than it was.
   */
  alive_at: number;
  /** The outcome as the caller sees it (see call-records-outcome.ts); null while open. */
  disposition: 'answered' | 'missed' | 'declined' | 'cancelled' | 'busy' | 'failed' | null;
  end_reason: string | null;
  /** The user who hung up, cancelled or declined, when one did. */
  ended_by: string | null;
  /** 1: a missed call for the callee (counted by their badge until seen). */
  missed: number;
  /** When the callee marked the missed call seen. */
  missed_seen_at: number | null;
  /** Media statistics of the phone's leg (migration 014; null without one): the driver that carried it. */
  media_driver?: 'embedded' | 'rtpengine' | null;
  /** RTP packets received from the phone, and sent (relayed) to it. */
  media_packets_in?: number | null;
  media_packets_out?: number | null;
  /** Loss of the phone's stream, percent (sequence gaps, or its RTCP reports on rtpengine). */
  media_loss_pct?: number | null;
  /** Interarrival jitter of the phone's stream, ms (RFC 3550 A.8). */
  media_jitter_ms?: number | null;
  /** Why the media failed mid-call (an rtpengine node that stopped answering); null when they did not. */
  media_failure?: string | null;
  /** Calls through a carrier (migration 016; null otherwise): the number as the caller typed it. */
  callee_number_typed?: string | null;
  /** The codec of the user's leg and of the carrier's (e.g. `opus`, `PCMA`). */
  user_codec?: string | null;
  carrier_codec?: string | null;
  /** The SIP code and reason phrase that ended the carrier leg (e.g. 486 `Busy Here`, 200 for a BYE). */
  sip_end_code?: number | null;
  sip_end_text?: string | null;
  /**
   * Calls out (migration 018): the least-cost routing decision as JSON (telephony/least-cost.ts's
   * RouteDecision: candidates and their cost, the carrier chosen, the ones skipped and why).
   */
  route_decision?: string | null;
  /**
   * 1: an on-net call (migration 021): dialled by a number a user of this server owns, connected
   * user to user with no carrier and free (telephony/on-net.ts).
   */
  on_net?: number;
}

export interface CallRecordTables {
  call_records: CallRecordsTable;
}
