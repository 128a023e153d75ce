/**
 * Billing's coded errors. Callers (credit control in telephony, the HTTP API, logs) match on `code`,
 * never on text. A refusal of a call is not an exception: `authorise` returns it as a value with one of
 * the `RefusalCode`s; exceptions are for requests that cannot be served (bad input, missing things).
 */

/** Why a call may not go through (returned by `authorise`, not thrown). */
export type RefusalCode =
  /** The user holds no licence of a plan that includes calling the phone network. */
  | 'no_licence'
  /** None of the user's plans allows calls to this destination class. */
  | 'class_not_allowed'
  /** Premium-rate destinations are blocked unless the tenant enabled them. */
  | 'premium_blocked'
  /** The destination is in no rate deck that applies to the user (no price, so no call). */
  | 'no_rate'
  /** No pool minutes and not enough credit for the first increment (and connection fee). */
  | 'insufficient_funds';

export const BillingErrorStatus = {
  no_licence: 403,
  class_not_allowed: 403,
  premium_blocked: 403,
  no_rate: 404,
  insufficient_funds: 402,
  deck_invalid: 400,
  invalid_amount: 400,
  invalid_destination: 400,
  not_found: 404,
  conflict: 409,
  seats_exhausted: 409,
  reservation_closed: 409,
  validation_failed: 400,
  balance_limit: 422,
  idempotency_key_reused: 409,
} as const;

export type BillingErrorCode = keyof typeof BillingErrorStatus;

/** One problem in an imported file: its 1-based row (the header is row 1), the column and why. */
export interface RowProblem {
  row: number;
  column?: string;
  message: string;
}

/** An expected, coded failure of a billing request. */
export class BillingError extends Error {
  readonly code: BillingErrorCode;
  readonly status: number;
  /** For `deck_invalid`: every problem found, with row numbers. */
  readonly problems?: RowProblem[];

  constructor(code: BillingErrorCode, message: string, problems?: RowProblem[]) {
    super(message);
    this.name = 'BillingError';
    this.code = code;
    this.status = BillingErrorStatus[code];
    this.problems = problems;
  }
}
