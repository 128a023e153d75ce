/**
 * Coded errors of the SIP stack.
 *
 * Two families, kept apart on purpose (see STYLE.md, "Expected conditions versus bugs"):
 * - {@link SipParseError}: a peer sent something malformed. Expected; the stack answers it
 *   (400, 505, ...) when a response can be formed and otherwise drops it.
 * - {@link SipStateError}: the stack or its user attempted an illegal state transition. A bug.
 */

/** Codes of malformed-input conditions. */
export type SipParseErrorCode =
  | 'SIP_START_LINE'
  | 'SIP_VERSION'
  | 'SIP_HEADER_SYNTAX'
  | 'SIP_HEADER_VALUE'
  | 'SIP_TOO_MANY_HEADERS'
  | 'SIP_LINE_TOO_LONG'
  | 'SIP_HEADERS_TOO_LARGE'
  | 'SIP_BODY_TOO_LARGE'
  | 'SIP_CONTENT_LENGTH'
  | 'SIP_TRUNCATED'
  | 'SIP_URI'
  | 'SIP_MISSING_HEADER'
  | 'SIP_DUPLICATE_HEADER'
  | 'SIP_CSEQ_MISMATCH'
  | 'SIP_STATUS_CODE';

/**
 * A message (or part of one) that does not follow the RFC 3261 section 25 grammar.
 * `status` is the response a UAS should send when it can form one (RFC 3261 section 8.2,
 * RFC 4475); `header` names the offending header when there is one.
 */
export class SipParseError extends Error {
  readonly code: SipParseErrorCode;
  readonly status: number;
  readonly header: string | undefined;
  constructor(code: SipParseErrorCode, message: string, opts: { status?: number; header?: string } = {}) {
    super(message);
    this.name = 'SipParseError';
    this.code = code;
    this.status = opts.status ?? 400;
    this.header = opts.header;
  }
}

/** Codes of programming errors. */
export type SipStateErrorCode = 'SIP_ILLEGAL_TRANSITION' | 'SIP_TRANSPORT_CLOSED' | 'SIP_INVALID_ARGUMENT';

/** An impossible state or misuse of the API: a bug in the caller or in the stack. */
export class SipStateError extends Error {
  readonly code: SipStateErrorCode;
  constructor(code: SipStateErrorCode, message: string) {
    super(message);
    this.name = 'SipStateError';
    this.code = code;
  }
}
