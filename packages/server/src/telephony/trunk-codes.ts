/**
 * What a carrier's SIP answer means to the people in the call, both ways (issue 18, "code mapping").
 *
 * Outbound (Parley's trunk leg is the UAC): the carrier's final non-2xx answer to our INVITE becomes the
 * call's end reason, the one the web app already words ("Busy", "Unavailable", ...), plus the SIP
 * reason kept for the record (`sipCode`, `sipText`) and a sentence for the cases the end reasons do not
 * name (a number that does not exist, an incomplete one, the carrier out of service), so the caller
 * reads why instead of a bare "Call failed".
 *
 * Inbound (the carrier's INVITE rings a user): how the call ended before an answer becomes our final
 * answer to the carrier (RFC 3261 section 21; 486 busy, 480 nobody took it, 603 declined, 404 no such
 * number, 503 with Retry-After when a channel limit is reached, so the carrier may try another route).
 *
 * Pure functions: the trunk party and the inbound gateway call them; tested on their own.
 */
import type { CallEndReason } from '@parley/protocol';

/** A carrier's failure as the call records and the caller see it. */
export interface TrunkFailure {
  reason: CallEndReason;
  sipCode: number;
  sipText: string;
  /** A sentence for the caller when the end reason alone would not say why. */
  words: string;
}

const failureOf: Record<number, Omit<TrunkFailure, 'sipCode' | 'sipText'>> = {
  404: { reason: 'failed', words: 'That number does not exist.' },
  484: { reason: 'failed', words: 'That number is incomplete.' },
  604: { reason: 'failed', words: 'That number does not exist.' },
  486: { reason: 'busy', words: 'The number is busy.' },
  600: { reason: 'busy', words: 'The number is busy.' },
  603: { reason: 'declined', words: 'The call was declined.' },
  480: { reason: 'unavailable', words: 'The number cannot be reached right now.' },
  408: { reason: 'no_answer', words: 'Nobody answered.' },
  487: { reason: 'cancelled', words: 'The call was cancelled.' },
  488: { reason: 'failed', words: 'The phone network and Parley share no codec.' },
  503: { reason: 'failed', words: 'The phone network is not taking calls right now.' },
};

/**
 * The end of an outbound call the carrier refused with `code` (300..699). Unlisted codes fall back by
 * class: 4xx and 6xx the number's side ("The call could not be completed."), 5xx the carrier's.
 */
export function carrierFailure(code: number, text = ''): TrunkFailure {
  if (!Number.isInteger(code) || code < 300 || code > 699)
    throw new RangeError(`not a final failure code: ${code}`);
  const known = failureOf[code];
  if (known) return { ...known, sipCode: code, sipText: text };
  if (code >= 500 && code < 600)
    return {
      reason: 'failed',
      words: 'The phone network could not take the call.',
      sipCode: code,
      sipText: text,
    };
  return { reason: 'failed', words: 'The call could not be completed.', sipCode: code, sipText: text };
}

/** Why an inbound call was not answered, as the gateway knows it. */
export type InboundRefusal = CallEndReason | 'unknown_number' | 'channel_limit';

/** Our final answer to a carrier's INVITE that was not answered (RFC 3261 section 21). */
export function inboundAnswer(why: InboundRefusal): { code: number; text: string } {
  switch (why) {
    case 'busy':
      return { code: 486, text: 'Busy Here' };
    case 'declined':
      return { code: 603, text: 'Decline' };
    case 'unknown_number':
      return { code: 404, text: 'Not Found' };
    case 'channel_limit':
      return { code: 503, text: 'Service Unavailable' };
    case 'cancelled':
      return { code: 487, text: 'Request Terminated' };
    case 'no_answer':
    case 'unavailable':
    case 'do_not_disturb':
    case 'lost':
    case 'answered_elsewhere':
      return { code: 480, text: 'Temporarily Unavailable' };
    case 'hangup':
    case 'failed':
    case 'media_timeout':
      return { code: 500, text: 'Server Internal Error' };
  }
}
