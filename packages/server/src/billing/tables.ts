/**
 * Billing's tables as kysely sees them (composed into `Database` in storage/schema.ts). Money columns
 * are integer micro-units (`_micros`), instants epoch ms, booleans 0/1, lists JSON text.
 */
import type { Generated } from 'kysely';

/** A plan the operator sells, priced per user per month. */
export interface BillingPlansTable {
  id: string;
  name: string;
  price_micros: number;
  /** JSON array of included services, e.g. ["calling","voicemail","meetings"]. */
  services: string;
  /** JSON array of destination classes the plan's users may call. */
  allowed_classes: string;
  /** The sell deck for users of this plan (a tenant's own sell deck wins). */
  sell_deck_id: string | null;
  archived: number;
  created_at: number;
}

/** Included minutes per licence of a plan, by the caller's country and the destination class. */
export interface BillingPlanMinutesTable {
  plan_id: string;
  country: string;
  class: string;
  minutes: number;
}

/** Seats of a plan held by a tenant. */
export interface BillingLicencesTable {
  tenant_id: string;
  plan_id: string;
  seats: number;
  updated_at: number;
}

/** A seat of a plan assigned to a user. */
export interface BillingAssignmentsTable {
  tenant_id: string;
  user_id: string;
  plan_id: string;
  assigned_at: number;
}

/** A tenant's wallet and billing settings. available = balance - held, never negative. */
export interface BillingAccountsTable {
  tenant_id: string;
  balance_micros: number;
  held_micros: number;
  premium_enabled: number;
  sell_deck_id: string | null;
  updated_at: number;
}

/**
 * Every movement of a wallet. Append-only: never delete a row. On SQLite `seq` is a plain INTEGER
 * PRIMARY KEY since migration 005 (max + 1, no AUTOINCREMENT), so deleting the newest entry would let
 * its seq be handed out again.
 */
export interface BillingLedgerTable {
  seq: Generated<number>;
  id: string;
  tenant_id: string;
  /** top_up | call | adjustment */
  kind: string;
  amount_micros: number;
  balance_after_micros: number;
  reference: string | null;
  note: string | null;
  at: number;
}

/** Pool usage per tenant, caller's country, class and month; the size comes from the licences. */
export interface BillingPoolsTable {
  tenant_id: string;
  country: string;
  class: string;
  period: string;
  used_minutes: number;
  held_minutes: number;
}

export interface BillingCarriersTable {
  id: string;
  name: string;
  created_at: number;
}

export interface BillingDecksTable {
  id: string;
  name: string;
  kind: 'sell' | 'cost';
  carrier_id: string | null;
  created_at: number;
}

export interface BillingDeckVersionsTable {
  deck_id: string;
  version: number;
  effective_from: number;
  imported_at: number;
  row_count: number;
}

export interface BillingDeckRatesTable {
  deck_id: string;
  version: number;
  prefix: string;
  destination: string;
  class: string;
  rate_micros: number;
  fee_micros: number;
  first_increment: number;
  next_increment: number;
}

/** A credit-control reservation (see reservation.ts for its states). */
export interface BillingReservationsTable {
  id: string;
  tenant_id: string;
  user_id: string;
  call_id: string | null;
  destination: string;
  state: string;
  /** The pool drawn, or null. */
  pool_country: string | null;
  pool_class: string | null;
  pool_period: string | null;
  deck_id: string;
  deck_version: number;
  prefix: string;
  /** The priced row, JSON (a RateRow), so commit rates with exactly what was quoted. */
  rate: string;
  granted_seconds: number;
  held_pool_minutes: number;
  held_credit_micros: number;
  created_at: number;
  expires_at: number;
  closed_at: number | null;
}

/** Rated calls: the charge and its explanation (JSON of a RatedCall). */
export interface BillingRatedCallsTable {
  call_id: string;
  tenant_id: string;
  user_id: string | null;
  reservation_id: string | null;
  started_at: number;
  class: string | null;
  billable_seconds: number;
  pool_minutes: number;
  amount_micros: number;
  explanation: string;
  rated_at: number;
}

/** A tenant admin's request for credit and the operator's decision on it. */
export interface BillingTopUpRequestsTable {
  id: string;
  tenant_id: string;
  amount_micros: number;
  note: string | null;
  /** pending | approved | declined */
  state: string;
  requested_by: string | null;
  requested_at: number;
  decided_by: string | null;
  decided_at: number | null;
  decision_note: string | null;
  /** The approval's ledger entry. */
  ledger_id: string | null;
}

/** The first answer to a money-moving request, by tenant and Idempotency-Key. */
export interface BillingIdempotencyTable {
  tenant_id: string;
  key: string;
  /** sha-256 of the request it answered (route, path ids, body). */
  fingerprint: string;
  /** What the first request made: its ledger entry id (the answer is rebuilt from immutable rows). */
  result: string;
  created_at: number;
}

export interface BillingTables {
  billing_plans: BillingPlansTable;
  billing_plan_minutes: BillingPlanMinutesTable;
  billing_licences: BillingLicencesTable;
  billing_assignments: BillingAssignmentsTable;
  billing_accounts: BillingAccountsTable;
  billing_ledger: BillingLedgerTable;
  billing_pools: BillingPoolsTable;
  billing_carriers: BillingCarriersTable;
  billing_decks: BillingDecksTable;
  billing_deck_versions: BillingDeckVersionsTable;
  billing_deck_rates: BillingDeckRatesTable;
  billing_reservations: BillingReservationsTable;
  billing_rated_calls: BillingRatedCallsTable;
  billing_top_up_requests: BillingTopUpRequestsTable;
  billing_idempotency: BillingIdempotencyTable;
}
