/** The words of the call screens: who the other party is, how long, and why a call ended. */
import { ParleyError } from '@parley/protocol';
import type { CallDisposition, CallEndReason, CallPeer, CallView } from '@parley/protocol';
import type { CallQuality } from './calls-port.ts';

/** The other party by name, else address, else number (another tenant's party shows by number only). */
export function peerName(peer: CallPeer): string {
  return peer.displayName ?? peer.address ?? peer.number ?? 'Unknown caller';
}

/** 0:07, 12:34, 1:02:03. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A duration as words for screen readers: "1 minute 5 seconds". */
export function spokenDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const parts: string[] = [];
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h) parts.push(`${h} hour${h === 1 ? '' : 's'}`);
  if (m) parts.push(`${m} minute${m === 1 ? '' : 's'}`);
  if (rest || parts.length === 0) parts.push(`${rest} second${rest === 1 ? '' : 's'}`);
  return parts.join(' ');
}

/** What the caller or callee is told when a call of theirs ends on this device. */
export function endedSentence(call: CallView): string {
  const who = peerName(call.peer);
  const reason: CallEndReason = call.endReason ?? 'hangup';
  if (call.direction === 'outgoing') {
    // A carrier's refusal of a call out to a number says why in its own words (trunk-codes.ts).
    // An answered call the server ended says why too (credit ran out: call-credit.ts).
    if (call.endDetail && call.answeredAt) return `Call with ${who} ended. ${call.endDetail}`;
    if (call.endDetail) return `The call to ${who} did not go through. ${call.endDetail}`;
    const outgoing: Record<CallEndReason, string> = {
      hangup: `Call with ${who} ended.`,
      cancelled: `Call to ${who} cancelled.`,
      declined: `${who} is busy and declined the call.`,
      no_answer: `${who} did not answer.`,
      unavailable: `${who} is not available right now.`,
      do_not_disturb: `${who} is in Do not disturb; they will see that you called.`,
      busy: `${who} is already on another call.`,
      answered_elsewhere: `Call with ${who} continues on another device.`,
      lost: `The call with ${who} was lost (the connection dropped).`,
      failed: `The call to ${who} could not be connected.`,
      media_timeout: `The call with ${who} ended: no sound came from the phone for too long.`,
    };
    return outgoing[reason];
  }
  const incoming: Record<CallEndReason, string> = {
    hangup: `Call with ${who} ended.`,
    cancelled: `Missed call from ${who}.`,
    declined: `You declined the call from ${who}.`,
    no_answer: `Missed call from ${who}.`,
    unavailable: `Missed call from ${who}.`,
    do_not_disturb: `Missed call from ${who} (Do not disturb).`,
    busy: `Missed call from ${who} (you were on another call).`,
    answered_elsewhere: `Call from ${who} answered on another device.`,
    lost: `The call with ${who} was lost (the connection dropped).`,
    failed: `The call with ${who} failed.`,
    media_timeout: `The call with ${who} ended: no sound came from the phone for too long.`,
  };
  return incoming[reason];
}

/** A history entry's outcome in one or two words. */
export const dispositionLabels: Record<CallDisposition, string> = {
  answered: 'Answered',
  missed: 'Missed',
  declined: 'Declined',
  cancelled: 'Cancelled',
  busy: 'Busy',
  failed: 'Failed',
};

/** Why a missed call was missed, for its history row. */
export function missedReason(reason: CallEndReason | null): string {
  switch (reason) {
    case 'cancelled':
      return 'Caller hung up';
    case 'unavailable':
      return 'You were offline';
    case 'do_not_disturb':
      return 'Do not disturb';
    case 'busy':
      return 'You were on another call';
    case 'no_answer':
      return 'No answer';
    default:
      return 'Missed';
  }
}

/** Why getUserMedia refused, as a sentence (the browser's DOMException names). */
export function mediaErrorSentence(err: unknown): string | null {
  if (!(err instanceof DOMException)) return null;
  switch (err.name) {
    case 'NotAllowedError':
      return 'Parley may not use your microphone or camera. Allow it in the browser’s site settings and try again.';
    case 'NotFoundError':
      return 'No microphone or camera was found. Plug one in and try again.';
    case 'NotReadableError':
      return 'Your microphone or camera is in use by another application.';
    default:
      return null;
  }
}

/** The network-quality indicator's words (its bars are decoration). */
export const qualityLabels: Record<CallQuality['level'], string> = {
  good: 'Good connection',
  fair: 'Fair connection',
  poor: 'Poor connection',
  unknown: 'Checking connection…',
};

/** Credit control's refusals of a call out (no credit, no licence...): the server's own words name the number. */
const CREDIT_REFUSALS = new Set([
  'insufficient_funds',
  'no_licence',
  'no_rate',
  'class_not_allowed',
  'premium_blocked',
]);

/** The words of a refused call out when credit control refused it, else null. */
export function creditRefusal(err: unknown): string | null {
  return err instanceof ParleyError && CREDIT_REFUSALS.has(err.code) && err.message ? err.message : null;
}
