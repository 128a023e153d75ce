/**
 * The catalogue of coded errors. Clients match on `code`, never on message text.
 * The HTTP API answers `{"error":{"code","message"}}`; the realtime protocol carries the same codes.
 */
export const ErrorCodes = {
  malformed_json: 400,
  validation_failed: 400,
  bad_request: 400,
  /** A JSON body names `__proto__` or `constructor.prototype`: refused rather than silently dropped. */
  forbidden_key: 400,
  /** A new password is too easy to guess (zxcvbn score below 3); the message says why. */
  weak_password: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  token_expired: 401,
  session_revoked: 401,
  user_disabled: 401,
  forbidden: 403,
  /** The operator suspended the caller's organisation: nobody of it may sign in until it is resumed. */
  tenant_suspended: 403,
  not_found: 404,
  method_not_allowed: 405,
  duplicate_address: 409,
  duplicate_domain: 409,
  conflict: 409,
  /** Demoting or disabling the tenant's last enabled admin. */
  last_admin: 409,
  /** SIP devices: the SIP user name is taken by another device of the tenant. */
  duplicate_sip_username: 409,
  /** Extensions: the number is already another user's extension in the tenant. */
  duplicate_extension: 409,
  /** HTTP: the client did not send its whole request within the request timeout (or its headers in time). */
  request_timeout: 408,
  payload_too_large: 413,
  /** HTTP: a path segment is longer than any id the API uses. */
  uri_too_long: 414,
  /** A count limit (subscriptions per connection, ...) would be exceeded. */
  limit_exceeded: 422,
  /** Realtime: the client speaks a protocol version the server does not. */
  unsupported_version: 400,
  /** Realtime: a request needs the hello exchange first. */
  hello_required: 400,
  unsupported_media_type: 415,
  /** Chat files: the image has more pixels than PARLEY_FILE_THUMBNAIL_MAX_PIXELS: no thumbnail. */
  image_too_large: 422,
  /** Chat files: the image's header or pixels do not decode: no thumbnail. */
  image_unreadable: 422,
  /** Calls: the callee (by address) belongs to another organisation; calls by address stay within one. */
  not_in_tenant: 403,
  /** Calls: the call is not in a state for that (answered already, ended, not yours to answer yet). */
  call_state: 409,
  /** Calls: the dialled number is not one the tenant's dial plan can place (malformed, or no carrier reaches it). */
  invalid_number: 400,
  /** Calls: no carrier can take a phone call to this number now (none configured, all down or full). */
  no_route: 503,
  /** Calls: the SDP offer or answer does not parse, or lacks what WebRTC needs (ICE, DTLS, a media line). */
  invalid_sdp: 400,
  rate_limited: 429,
  /** Too many open connections: a user's realtime sockets, or one source address's HTTP connections. */
  too_many_connections: 429,
  /** HTTP: the request line and headers are larger than the server reads. */
  headers_too_large: 431,
  internal: 500,
  unavailable: 503,
  /** The server's storage is full (disk, quota or database size): nothing was saved (RFC 4918 11.5). */
  storage_full: 507,
  /** Billing: the user holds no calling licence. */
  no_licence: 403,
  /** Billing: no plan of the user allows this destination class. */
  class_not_allowed: 403,
  /** Billing: premium-rate destinations are blocked for the tenant. */
  premium_blocked: 403,
  /** Billing: no rate deck prices this destination. */
  no_rate: 404,
  /** Billing: no minutes and not enough credit. */
  insufficient_funds: 402,
  /** Billing: a rate deck file was refused whole (the message lists rows). */
  deck_invalid: 400,
  /** Telephony: a number import file was refused whole (the message and `rows` list the bad rows). */
  numbers_invalid: 400,
  /** Emergency locations: users are at the site; move them before removing it. */
  site_in_use: 409,
  /** Billing: an amount is not a valid decimal of at most 6 places. */
  invalid_amount: 400,
  /** Billing: not an E.164 number or a short code. */
  invalid_destination: 400,
  /** Billing: every seat of the plan is assigned. */
  seats_exhausted: 409,
  /** Billing: the reservation is already committed, released or expired. */
  reservation_closed: 409,
  /** Billing: the credit would take the wallet past its largest balance (one billion units). */
  balance_limit: 422,
  /** A money-moving request was sent without its Idempotency-Key header. */
  idempotency_key_required: 400,
  /** The Idempotency-Key was already used for a different request of the tenant. */
  idempotency_key_reused: 409,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** One problem of an imported file's row: its 1-based row number (the header is row 1), column, why. */
export interface RowProblem {
  row: number;
  column?: string;
  message: string;
}

export interface ErrorBody {
  error: { code: ErrorCode | string; message: string; field?: string; rows?: RowProblem[] };
}

/** An expected, coded failure (bad input, missing rights, conflicts): not a bug. */
export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly field?: string;
  /** Seconds, for rate_limited. */
  readonly retryAfter?: number;
  /** For a refused import (`deck_invalid`, `numbers_invalid`): each problem with its row number, so a client can list them. */
  readonly rows?: RowProblem[];

  constructor(
    code: ErrorCode,
    message: string,
    extra: { field?: string; retryAfter?: number; cause?: unknown; rows?: RowProblem[] } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'ParleyError';
    this.code = code;
    this.status = ErrorCodes[code];
    this.field = extra.field;
    this.retryAfter = extra.retryAfter;
    this.rows = extra.rows;
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field ? { field: this.field } : {}),
        ...(this.rows?.length ? { rows: this.rows } : {}),
      },
    };
  }
}
