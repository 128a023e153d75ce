/**
 * The server's error codes as sentences a person can act on. Keyed by the protocol's catalogue, so a
 * code added there fails the typecheck here until it has its sentence. Screens show `errorSentence(err)`
 * and never the server's English message, which is written for developers.
 */
import { ParleyError, type ErrorCode } from '@parley/sdk';

export const errorSentences: Record<ErrorCode, string> = {
  malformed_json: 'The app sent something the server could not read. Reload the page and try again.',
  validation_failed: 'Some of what you entered is not valid. Check the highlighted field.',
  bad_request: 'The server could not understand that request. Reload the page and try again.',
  forbidden_key: 'Some of what you entered uses a name that is not allowed.',
  weak_password: 'That password is too easy to guess. Try a longer one, such as a few unrelated words.',
  unauthorized: 'Please sign in.',
  invalid_credentials: 'That address and password do not match. Check them and try again.',
  token_expired: 'Your session has expired. Please sign in again.',
  session_revoked: 'Your session has ended. Please sign in again.',
  user_disabled: 'Your account has been disabled. Ask your administrator.',
  tenant_suspended: 'Your organisation’s account is suspended. Ask your administrator.',
  forbidden: 'You do not have permission to do that.',
  not_found: 'That could not be found. It may have been removed.',
  method_not_allowed: 'That action is not available here.',
  duplicate_address: 'Someone already uses that address.',
  duplicate_domain: 'That domain already belongs to an organisation.',
  conflict: 'Someone else changed this meanwhile. Reload and try again.',
  last_admin: 'Your organisation needs at least one administrator, so this one must stay.',
  duplicate_sip_username: 'Another phone already uses that SIP user name. Choose another.',
  duplicate_extension: 'Someone else already has that extension. Choose another number.',
  request_timeout: 'The request took too long. Check your connection and try again.',
  payload_too_large: 'That is too large to send.',
  image_too_large: 'That image is too large to preview; it can still be downloaded.',
  image_unreadable: 'That image could not be read, so it has no preview.',
  uri_too_long: 'That link is too long.',
  limit_exceeded: 'You have reached a limit. Remove something first.',
  unsupported_version: 'This app is out of date. Reload the page.',
  hello_required: 'The connection was not ready. It will reconnect by itself.',
  unsupported_media_type: 'That kind of file or data is not accepted.',
  not_in_tenant: 'You can call people of your own organisation only.',
  call_state: 'That call has already been answered or has ended.',
  invalid_number: 'That is not a number we can call. Check it and try again.',
  no_route: 'Calls to that number cannot be placed right now.',
  invalid_sdp: 'Your browser could not set up the call. Reload the page and try again.',
  rate_limited: 'You are going a bit fast. Wait a moment and try again.',
  too_many_connections: 'You are connected from too many places. Close a tab or device and try again.',
  headers_too_large: 'The request was too large. Reload the page and try again.',
  internal: 'Something went wrong on the server. Try again; if it keeps happening, tell your administrator.',
  unavailable: 'The server cannot be reached right now. Check your connection; the app will keep trying.',
  storage_full: 'The server is out of storage, so nothing was saved. Tell your administrator.',
  no_licence: 'You have no calling licence. Ask your administrator for one.',
  class_not_allowed: 'Your plan does not allow calls to that destination.',
  premium_blocked: 'Calls to premium-rate numbers are blocked for your organisation.',
  no_rate: 'Calls to that destination cannot be priced, so they are not allowed.',
  insufficient_funds: 'There are no minutes or credit left for that call.',
  deck_invalid: 'The rate deck file has errors; nothing was imported. See the rows listed.',
  numbers_invalid: 'The numbers file has errors; nothing was imported. See the rows listed.',
  site_in_use: 'Users are at this site: move them to another site or address first.',
  invalid_amount: 'Enter an amount as a number with at most 6 decimal places.',
  invalid_destination:
    'Enter a phone number in international format (such as +44 20 7946 0000) or a short code.',
  seats_exhausted: 'Every seat of that plan is taken. Add seats or free one first.',
  reservation_closed: 'The call ended before it could be charged.',
  balance_limit: 'That would take the wallet past its largest allowed balance.',
  idempotency_key_required: 'The app did not mark this payment request. Reload the page and try again.',
  idempotency_key_reused: 'This payment request was already sent with other details. Start again.',
};

/** The sentence for an error: the catalogue's for a coded error, a generic one for anything else. */
export function errorSentence(err: unknown): string {
  if (err instanceof ParleyError) return errorSentences[err.code] ?? errorSentences.internal;
  return errorSentences.internal;
}
