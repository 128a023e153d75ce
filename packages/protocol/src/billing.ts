/**
 * Request and response schemas of billing's HTTP API (the server validates with them, the SDK and the
 * operator console type their calls with them). Amounts travel as exact decimal strings of the
 * operator's currency ("12.50", "0.0125"), never as JSON numbers, so no client or server ever rounds
 * them through floating point; `...Micros` integer twins are given for machines.
 */
import { z } from 'zod';
import { CountryCode, DisplayText, Id } from './api.ts';

import { DESTINATION_CLASSES, SERVICES } from './constants.ts';

export { DESTINATION_CLASSES, SERVICES };

/**
 * A non-negative decimal amount with at most 6 decimals and at most 7 whole digits: the per-request
 * cap (MAX_REQUEST_AMOUNT, 9,999,999.999999) is enforced by the shape, so every accepted amount parses
 * into safe micro-units.
 */
export const Amount = z
  .string()
  .trim()
  .regex(
    /^\d{1,7}(\.\d{1,6})?$/,
    'must be a decimal amount such as 12.50, at most 9999999.999999 (6 decimals)',
  );
/** A signed decimal amount (adjustments), capped like `Amount`. */
export const SignedAmount = z
  .string()
  .trim()
  .regex(
    /^-?\d{1,7}(\.\d{1,6})?$/,
    'must be a decimal amount such as -3.20, at most 9999999.999999 either way (6 decimals)',
  );
export const DestinationClass = z.enum(DESTINATION_CLASSES);
export const Service = z.enum(SERVICES);

export const IncludedMinutes = z.strictObject({
  country: CountryCode,
  class: DestinationClass.exclude(['emergency']),
  minutes: z.number().int().min(0).max(10_000_000),
});

export const CreatePlanRequest = z.strictObject({
  name: DisplayText(120),
  pricePerUserMonth: Amount,
  services: z.array(Service).max(SERVICES.length),
  allowedClasses: z.array(DestinationClass).max(DESTINATION_CLASSES.length),
  sellDeckId: Id.nullable().optional(),
  includedMinutes: z.array(IncludedMinutes).max(500).default([]),
});

export const Plan = z.object({
  id: z.string(),
  name: z.string(),
  pricePerUserMonth: z.string(),
  pricePerUserMonthMicros: z.number().int(),
  services: z.array(z.string()),
  allowedClasses: z.array(z.string()),
  sellDeckId: z.string().nullable(),
  includedMinutes: z.array(z.object({ country: z.string(), class: z.string(), minutes: z.number().int() })),
  archived: z.boolean(),
  createdAt: z.string(),
});

export const Carrier = z.object({ id: z.string(), name: z.string(), createdAt: z.string() });
export const CreateCarrierRequest = z.strictObject({ name: DisplayText(120) });

export const Deck = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['sell', 'cost']),
  carrierId: z.string().nullable(),
  createdAt: z.string(),
  versions: z.array(
    z.object({
      version: z.number().int(),
      effectiveFrom: z.string(),
      importedAt: z.string(),
      rowCount: z.number().int(),
    }),
  ),
});
export const CreateDeckRequest = z.strictObject({
  name: DisplayText(120),
  kind: z.enum(['sell', 'cost']),
  carrierId: Id.nullable().optional(),
});
export const ImportDeckRequest = z.strictObject({
  /** The CSV text (see rate-deck.ts for the columns). */
  csv: z.string().min(1),
  /** ISO 8601 instant from which this version replaces the previous one. */
  effectiveFrom: z.iso.datetime({ offset: true }),
});
export const ImportDeckResponse = z.object({
  deckId: z.string(),
  version: z.number().int(),
  rows: z.number().int(),
});

export const TenantAccountRequest = z.strictObject({
  sellDeckId: Id.nullable().optional(),
  premiumEnabled: z.boolean().optional(),
});
export const AdjustmentRequest = z.strictObject({
  amount: SignedAmount,
  note: z.string().trim().min(1).max(500),
});

export const Licence = z.object({
  planId: z.string(),
  planName: z.string(),
  seats: z.number().int(),
  assigned: z.number().int(),
});
export const SetSeatsRequest = z.strictObject({ planId: Id, seats: z.number().int().min(0).max(1_000_000) });
export const AssignmentRequest = z.strictObject({ userId: Id, planId: Id });
export const AssignmentsQuery = z.strictObject({ planId: Id.optional() });
export const Assignments = z.object({
  items: z.array(z.object({ userId: z.string(), planId: z.string(), assignedAt: z.string() })),
});
export const UserPlans = z.object({
  items: z.array(z.object({ planId: z.string(), assignedAt: z.string() })),
});

export const Wallet = z.object({
  balance: z.string(),
  held: z.string(),
  available: z.string(),
  balanceMicros: z.number().int(),
  heldMicros: z.number().int(),
  availableMicros: z.number().int(),
  premiumEnabled: z.boolean(),
  sellDeckId: z.string().nullable(),
});
export const TopUpRequest = z.strictObject({
  amount: Amount,
  reference: z.string().trim().min(1).max(200).optional(),
  note: z.string().trim().min(1).max(500).optional(),
});
export const TopUpRequestCreate = z.strictObject({
  amount: Amount,
  note: z.string().trim().min(1).max(500).optional(),
});
export const TopUpRequestState = z.enum(['pending', 'approved', 'declined']);
export const TopUpRequestView = z.object({
  id: z.string(),
  tenantId: z.string(),
  amount: z.string(),
  amountMicros: z.number().int(),
  note: z.string().nullable(),
  state: TopUpRequestState,
  requestedBy: z.string().nullable(),
  requestedAt: z.string(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  decisionNote: z.string().nullable(),
  ledgerId: z.string().nullable(),
});
export const TopUpRequestsQuery = z.strictObject({
  state: TopUpRequestState.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export const OperatorTopUpRequestsQuery = TopUpRequestsQuery.extend({ tenantId: Id.optional() });
export const TopUpDecision = z.strictObject({ note: z.string().trim().min(1).max(500).optional() });
export const LedgerEntry = z.object({
  seq: z.number().int(),
  id: z.string(),
  kind: z.string(),
  amount: z.string(),
  amountMicros: z.number().int(),
  balanceAfter: z.string(),
  reference: z.string().nullable(),
  note: z.string().nullable(),
  at: z.string(),
});
export const LedgerQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().min(1).optional(),
});
export const BillingSettingsRequest = z.strictObject({ premiumEnabled: z.boolean() });

export const PreviewRequest = z.strictObject({
  userId: Id,
  destination: z.string().trim().min(2).max(32),
  callerCountry: CountryCode.optional(),
});
export const PreviewResponse = z.union([
  z.object({ ok: z.literal(false), code: z.string(), message: z.string() }),
  z.object({ ok: z.literal(true), emergency: z.literal(true) }),
  z.object({
    ok: z.literal(true),
    emergency: z.literal(false),
    maxSeconds: z.number().int(),
    firstSliceSeconds: z.number().int(),
    class: z.string(),
    matchedPrefix: z.string(),
    deck: z.object({ id: z.string(), version: z.number().int() }),
    ratePerMinute: z.string(),
    connectionFee: z.string(),
    firstIncrement: z.number().int(),
    nextIncrement: z.number().int(),
    poolMinutes: z.number().int(),
    credits: z.string(),
  }),
]);
export const ApprovedTopUp = z.object({ request: TopUpRequestView, entry: LedgerEntry });

export type Plan = z.infer<typeof Plan>;
export type Carrier = z.infer<typeof Carrier>;
export type Deck = z.infer<typeof Deck>;
export type Licence = z.infer<typeof Licence>;
export type Wallet = z.infer<typeof Wallet>;
export type TopUpRequestView = z.infer<typeof TopUpRequestView>;
export type LedgerEntry = z.infer<typeof LedgerEntry>;
export type ImportDeckResponse = z.infer<typeof ImportDeckResponse>;
export type ApprovedTopUp = z.infer<typeof ApprovedTopUp>;
export type PreviewResponse = z.infer<typeof PreviewResponse>;
