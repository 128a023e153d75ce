/**
 * What a finished call means for each of its users: the disposition in their history, whether it is a
 * missed call for the callee, and its duration. Kept apart from the storage so the history, the
 * `call.ended` / `call.missed` events and crash closing all say the same thing.
 */
import type { CallDisposition, CallEndReason } from '@parley/protocol';

/**
 * End reasons that make an unanswered call a missed call for the callee (and a `call.missed` notice):
 * it came to them and they did not take it. A decline is their own choice, not missed; a failure is the
 * server's, told as `failed`.
 */
const MISSED: ReadonlySet<CallEndReason> = new Set<CallEndReason>([
  'no_answer',
  'cancelled',
  'unavailable',
  'do_not_disturb',
  'busy',
]);

/** Whether a call that ended for `reason` is a missed call for its callee. */
export function isMissed(answered: boolean, reason: CallEndReason): boolean {
  return !answered && MISSED.has(reason);
}

/**
 * The call's outcome as its caller sees it (the record's `disposition`): answered whenever a device
 * answered, whatever ended it after; otherwise from the end reason. Nobody taking the call (no answer,
 * offline, Do not disturb) is `missed` on the caller's side too: the end reason says which.
 */
export function callerDisposition(answered: boolean, reason: CallEndReason): CallDisposition {
  if (answered) return 'answered';
  switch (reason) {
    case 'cancelled':
    case 'hangup': // a hang-up before any answer is the caller cancelling
      return 'cancelled';
    case 'declined':
      return 'declined';
    case 'busy':
      return 'busy';
    case 'no_answer':
    case 'unavailable':
    case 'do_not_disturb':
      return 'missed';
    case 'answered_elsewhere': // a device's view only; a whole call never ends so
    case 'lost':
    case 'failed':
    case 'media_timeout':
      return 'failed';
  }
}

/** The disposition in one user's history: the callee sees a missed call where the caller sees why. */
export function dispositionFor(
  side: 'outgoing' | 'incoming',
  stored: CallDisposition,
  missed: boolean,
): CallDisposition {
  return side === 'incoming' && missed ? 'missed' : stored;
}

/**
 * Whole seconds from answer to end, rounded down (a call is never reported longer than it was); 0 for
 * a call never answered or still going on.
 */
export function durationSeconds(answeredAt: number | null, endedAt: number | null): number {
  if (answeredAt === null || endedAt === null) return 0;
  return Math.max(0, Math.floor((endedAt - answeredAt) / 1000));
}

/**
 * The end reason one party may see of a call with a user of another tenant (an on-net call,
 * telephony/on-net.ts): Do not disturb is that user's presence, so across tenants it reads as not
 * available, as the phone network would say.
 */
export function reasonAcrossTenants(reason: CallEndReason): CallEndReason {
  return reason === 'do_not_disturb' ? 'unavailable' : reason;
}
