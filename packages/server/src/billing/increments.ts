/**
 * Billing increments. A deck row says "first/next" in seconds: 60/60 bills whole minutes, 30/6 bills
 * 30 seconds then 6-second steps, 1/1 bills per second.
 *
 * Billable seconds of a call lasting `d` whole seconds: 0 when d is 0 (see `durationSeconds`: a call that
 * was never answered, or answered for less than one second, is free: no increment, no connection fee,
 * as Asterisk's billsec and Teams' usage reports treat it); otherwise the first increment, plus as
 * many whole next increments as cover the rest.
 */
export function billableSeconds(duration: number, first: number, next: number): number {
  if (duration <= 0) return 0;
  if (duration <= first) return first;
  return first + Math.ceil((duration - first) / next) * next;
}

/**
 * The longest duration at a billing boundary (first + k * next, k >= 0) that does not exceed `limit`
 * seconds; 0 when even the first increment does not fit. Credit control grants only such durations, so
 * a call cut at its grant never owes a part-increment it could not pay for.
 */
export function boundaryAtOrBelow(limit: number, first: number, next: number): number {
  if (limit < first) return 0;
  if (limit === Infinity) return Infinity;
  return first + Math.floor((limit - first) / next) * next;
}

/**
 * Whole seconds of a call record: from answer to end, rounded down (a call cut at its grant of 300 s
 * that measured 300.02 s is a 300 s call). Unanswered calls last 0 s.
 */
export function durationSeconds(answeredAt: number | null, endedAt: number): number {
  if (answeredAt === null || endedAt <= answeredAt) return 0;
  return Math.floor((endedAt - answeredAt) / 1000);
}
