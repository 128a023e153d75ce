/** Tables of the per-user durable event log (see event-log.ts). */

export interface UserEventsTable {
  user_id: string;
  /** Strictly increasing per user, from 1. */
  seq: number;
  tenant_id: string;
  kind: string;
  /** JSON. */
  data: string;
  at: number;
}

/** Each user's highest allocated seq: incremented in the same transaction as the event's insert. */
export interface UserEventHeadsTable {
  user_id: string;
  tenant_id: string;
  seq: number;
}

export interface EventLogTables {
  user_events: UserEventsTable;
  user_event_heads: UserEventHeadsTable;
}
