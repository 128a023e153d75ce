/**
 * What call control tells the call records (CDRs) as a call goes: the seam between the state machines
 * (call-control) and the stored records (call-records), so each can be tested without the other.
 *
 * Each call has one record per tenant that has a party in it (a call between two users of one tenant:
 * one record; a phone call reaching another tenant's user by number, later: one each, each showing the
 * other party by number only). A record is stored when the call is placed, before anything rings, and
 * completed when it ends; the missed-call notice and the "call ended" event of each user are written in
 * the same transaction as the record's end, so a crash keeps all or none of them.
 */
import type { CallEndReason } from '@parley/protocol';

/** One party as the records keep it. */
export interface RecordParty {
  tenantId: string;
  /** The user, for a party that is a user (null for a phone number party, later). */
  userId: string | null;
  /** The party's phone number, when it has one (later issues). */
  number: string | null;
}

export interface CallOpened {
  callId: string;
  caller: RecordParty;
  callee: RecordParty;
  /** The caller's device key. */
  callerDevice: string;
  video: boolean;
  /** Epoch ms. */
  at: number;
  /**
   * Dialled by a number a user of this server owns (telephony/on-net.ts): the records say on-net,
   * and the caller's keeps the number as typed.
   */
  onNet?: { typed: string };
}

export interface CallRecordSink {
  /** The call was placed: its records are stored when this resolves. */
  opened(call: CallOpened): Promise<void>;
  /** The callee's devices started ringing (the first time only). */
  ringing(callId: string, at: number, devices: readonly string[]): Promise<void>;
  /** A device answered. */
  answered(callId: string, at: number, device: string): Promise<void>;
  /** The call ended; `endedBy` is the user who hung up, cancelled or declined, when one did. */
  ended(callId: string, at: number, reason: CallEndReason, endedBy: string | null): Promise<void>;
}
