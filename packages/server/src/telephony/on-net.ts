/**
 * On-net first (issue 20 item 2): a dialled number (made E.164 by the dial plan) that a user of this
 * server owns is not sent to any carrier. It rings that user as a user-to-user call (their browsers
 * and phones, as call control rings users), free: no carrier, no credit, no rating. The decision is
 * taken in `TrunkOutbound.route()` right after the dial plan, before any carrier or credit step.
 *
 * Whatever tenant owns the number:
 * - the caller's own tenant: a call to a colleague (the callee sees them as for any internal call);
 * - another tenant: each party sees the other by number only, never directory data (no id, name,
 *   address or presence): the caller sees the number dialled, the callee the caller's number (none
 *   when withheld). Each tenant keeps its own record of the call (the caller's an outbound one to the
 *   number, the callee's an inbound one from it), both marked on-net (call-records.ts, migration 021).
 *
 * Only numbers given to a user are on-net: a number of the inventory that is the operator's or a
 * tenant's with no user yet goes out to the carriers as before.
 */
import type { OnNetRoute } from '../calls/call-control-deps.ts';
import type { NumberDirectory } from './numbers.ts';

export interface OnNetLookup {
  numbers: Pick<NumberDirectory, 'byNumber' | 'numberOfUser'>;
}

/**
 * The on-net route to `e164` when a user of this server owns it, else null (the call goes to a
 * carrier). `withheld` is the caller's choice for this call (their setting or a `*67` prefix),
 * read only when the number is on-net.
 */
export async function onNetRoute(
  d: OnNetLookup,
  caller: { tenantId: string; userId: string },
  e164: string,
  typed: string,
  withheld: () => Promise<boolean>,
): Promise<OnNetRoute | null> {
  const owner = await d.numbers.byNumber(e164);
  if (!owner || owner.tenantId === null || owner.userId === null) return null;
  const [callerNumber, hidden] = await Promise.all([
    d.numbers.numberOfUser(caller.tenantId, caller.userId),
    withheld(),
  ]);
  return {
    kind: 'on-net',
    tenantId: owner.tenantId,
    userId: owner.userId,
    e164,
    typed,
    callerNumber,
    withheld: hidden,
  };
}
