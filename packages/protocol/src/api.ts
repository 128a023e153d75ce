/**
 * REST API schemas, defined once: the server validates with them and publishes them as OpenAPI.
 */
import { z } from 'zod';
import { BULK_USERS_MAX } from './constants.ts';

export const Role = z.enum(['user', 'admin', 'operator']);
export type Role = z.infer<typeof Role>;

/**
 * Characters a display string may not hold because they make it show as something it is not: C0 and C1
 * controls, bidirectional embeddings, overrides, isolates and marks (Unicode TR #9; "Trojan Source",
 * CVE-2021-42574), invisible format characters (zero-width space, word joiner, byte order mark, soft
 * hyphen, invisible operators, Mongolian vowel separator) and lone UTF-16 surrogates (not text at all).
 */
const deceptive =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]|\p{Cs}/u;
/**
 * Zero-width (non-)joiners shape Arabic, Persian and Indic scripts and join emoji sequences; between
 * Latin letters, digits or spaces they only hide a difference (`al\u200Cice` looks like `alice`).
 */
const joiner = /^[\u200c\u200d]$/u;
const emoji = /^[\p{Extended_Pictographic}\p{Emoji_Modifier}\ufe0f]$/u;
const joinableLetter = /^(?![\p{sc=Latin}\p{sc=Common}\p{sc=Inherited}])[\p{L}\p{M}]$/u;

/** Why `s` would not display as it reads, or null: the one rule for every name, title and note. */
export function deceptiveText(s: string): string | null {
  const m = deceptive.exec(s);
  if (m) return `must not contain invisible, control or bidirectional characters (${codePoint(m[0])})`;
  const cps = Array.from(s);
  for (let i = 0; i < cps.length; i++) {
    if (!joiner.test(cps[i]!)) continue;
    const [prev, next] = [cps[i - 1] ?? '', cps[i + 1] ?? ''];
    if (emoji.test(prev) || (joinableLetter.test(prev) && joinableLetter.test(next))) continue;
    return `must not contain a zero-width joiner outside a script or emoji sequence that uses it (${codePoint(cps[i]!)})`;
  }
  return null;
}
const codePoint = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** A display string (a name, a title, a status note): trimmed, bounded, shown as it reads. */
export const DisplayText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .superRefine((s, ctx) => {
      const why = deceptiveText(s);
      if (why) ctx.addIssue({ code: 'custom', message: why });
    });

export const Domain = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    'must be a domain name such as contoso.example',
  );

/** A user's address: local-part@domain, lower-cased. */
export const Address = z
  .string()
  .trim()
  .toLowerCase()
  .max(320)
  .regex(
    /^[a-z0-9._%+-]{1,64}@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    'must be an address such as alice@contoso.example',
  );

export const Password = z.string().min(8).max(256);
export const CountryCode = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as GB');
export const TimeZone = z
  .string()
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Europe/London');

export const Id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an id');

export const User = z.object({
  id: z.string(),
  tenantId: z.string(),
  address: z.string(),
  displayName: z.string(),
  title: z.string().nullable(),
  department: z.string().nullable(),
  role: Role,
  enabled: z.boolean(),
  createdAt: z.string(),
});
export type User = z.infer<typeof User>;

export const Tenant = z.object({
  id: z.string(),
  name: z.string(),
  domains: z.array(z.string()),
  country: z.string(),
  timeZone: z.string(),
  /** Suspended by the operator: its users and API keys are refused until it is resumed. */
  suspended: z.boolean(),
  createdAt: z.string(),
});
export type Tenant = z.infer<typeof Tenant>;

export const LoginRequest = z.strictObject({ address: Address, password: z.string().min(1).max(256) });
export const LoginResponse = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number().int(),
  user: User,
});
export type LoginResponse = z.infer<typeof LoginResponse>;
export const RefreshRequest = z.strictObject({ refreshToken: z.string().min(1).max(512) });
export const LogoutRequest = z.strictObject({ refreshToken: z.string().min(1).max(512).optional() });

export const Page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const UserSearchQuery = z.strictObject({
  query: z.string().max(200).optional(),
  /** Only users of this role (the admin screens list a tenant's admins). */
  role: Role.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(400).optional(),
});

export const CreateUserRequest = z.strictObject({
  address: Address,
  displayName: DisplayText(200),
  password: Password,
  title: DisplayText(200).optional(),
  department: DisplayText(200).optional(),
  role: z.enum(['user', 'admin']).default('user'),
});

export { BULK_USERS_MAX };

/**
 * A batch of users to add (a CSV import). Each row is checked on its own (as `CreateUserRequest`), so
 * one bad row never refuses the others; rows are kept as sent until then.
 */
export const BulkCreateUsersRequest = z.strictObject({
  rows: z.array(z.record(z.string(), z.unknown())).min(1).max(BULK_USERS_MAX),
});

/** The answer for one row of a bulk request, in the order sent: created, or why not. */
export const BulkUserResult = z.discriminatedUnion('status', [
  z.object({ index: z.number().int(), status: z.literal('created'), user: User }),
  z.object({
    index: z.number().int(),
    status: z.literal('error'),
    error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
  }),
]);
export type BulkUserResult = z.infer<typeof BulkUserResult>;
export const BulkCreateUsersResponse = z.object({
  created: z.number().int(),
  failed: z.number().int(),
  results: z.array(BulkUserResult),
});
export type BulkCreateUsersResponse = z.infer<typeof BulkCreateUsersResponse>;

export const UpdateUserRequest = z.strictObject({
  displayName: DisplayText(200).optional(),
  title: DisplayText(200).nullable().optional(),
  department: DisplayText(200).nullable().optional(),
  role: z.enum(['user', 'admin']).optional(),
  enabled: z.boolean().optional(),
  password: Password.optional(),
});

export const CreateTenantRequest = z.strictObject({
  name: DisplayText(200),
  domains: z.array(Domain).min(1).max(20),
  country: CountryCode.default('US'),
  timeZone: TimeZone.default('UTC'),
});
export const UpdateTenantRequest = z.strictObject({
  name: DisplayText(200).optional(),
  country: CountryCode.optional(),
  timeZone: TimeZone.optional(),
});
export const AddDomainRequest = z.strictObject({ domain: Domain });

export const AuditEntry = z.object({
  id: z.string(),
  tenantId: z.string().nullable(),
  actorId: z.string().nullable(),
  actorAddress: z.string().nullable(),
  action: z.string(),
  target: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
  sourceAddress: z.string().nullable(),
  at: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
export const AuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(400).optional(),
});

export const ApiKey = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(['user', 'admin']),
  prefix: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
});
export const CreateApiKeyRequest = z.strictObject({
  name: DisplayText(100),
  role: z.enum(['user', 'admin']).default('admin'),
});
export const CreateApiKeyResponse = ApiKey.extend({ secret: z.string() });
export type ApiKey = z.infer<typeof ApiKey>;
export type CreateApiKeyResponse = z.infer<typeof CreateApiKeyResponse>;
/** A page of a listing, with the cursor of the next page (null: the last page). */
export type Paged<T> = { items: T[]; nextCursor: string | null };

export const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  database: z.object({
    engine: z.enum(['sqlite', 'postgres']),
    /** The database answers. */
    ok: z.boolean(),
    /** The last write was refused because the storage is full (and none has succeeded since). */
    full: z.boolean(),
    fullSince: z.iso.datetime().optional(),
  }),
});
