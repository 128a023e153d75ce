/**
 * Errors of the rtpengine `ng` client, each with a stable code (matched by code, never by text).
 * They are expected conditions: a node that does not answer, a node that refuses a command.
 */
export type NgErrorCode =
  /** No reply after every retry: the node is down or unreachable. */
  | 'ng_timeout'
  /** The node answered `result: error` (its `error-reason` is in the message). */
  | 'ng_refused'
  /** A reply that is not `cookie dictionary`, or bencode that does not parse. */
  | 'invalid_bencode'
  /** The client is closed. */
  | 'ng_closed';

export class NgError extends Error {
  override readonly name = 'NgError';
  constructor(
    readonly code: NgErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isNgError(err: unknown, code?: NgErrorCode): err is NgError {
  return err instanceof NgError && (code === undefined || err.code === code);
}
