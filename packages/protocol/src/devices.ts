/**
 * SIP devices and extensions on the REST API: a desk phone or softphone a tenant admin gives a user
 * (a SIP user name and a password, authenticated by digest in the user's domain, RFC 3261 section 22),
 * and the short numbers (extensions) a tenant assigns to its users. Defined once for the server, the SDK
 * and the admin screens.
 *
 * The password of a device is shown once: in the answer that creates the device or resets its password
 * (`SipDeviceCredentials`), never again. The server keeps only the digest HA1s (RFC 7616 section 3.4.2)
 * for MD5 and SHA-256 in the device's realm, which is the domain of the user's address.
 */
import { z } from 'zod';
import { DisplayText, Id } from './api.ts';

/**
 * A SIP user name: what the phone puts in its digest `username` and in its address of record. Lower
 * case letters, digits, `.`, `_` and `-` (every phone can type them; digest compares user names exactly,
 * so one spelling is kept).
 */
export const SipUsername = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,63}$/,
    'must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
  );

/**
 * A chosen device password: 8 to 64 printable ASCII characters (a phone's keypad or web page types
 * nothing else), without spaces or the characters that end a value in provisioning files (`"` `\` `;`
 * `<` `>`). It must also pass the strength rule, checked by the server (`weak_password`).
 */
export const SipPassword = z
  .string()
  .min(8)
  .max(64)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces (a phone types nothing else)')
  .refine((s) => !/["\\;<>]/.test(s), 'must not contain " \\ ; < or >');

/** A device name as the admin screens show it ("Desk phone", "Reception softphone"). */
export const SipDeviceName = DisplayText(100);

/** One SIP device of a user. No secret: the password was shown once, at creation or reset. */
export const SipDevice = z.object({
  id: z.string(),
  tenantId: z.string(),
  userId: z.string(),
  name: z.string(),
  /** The SIP (and digest) user name. */
  username: z.string(),
  /** The domain the phone registers in: the user's address domain, also the digest realm. */
  domain: z.string(),
  createdAt: z.string(),
  /** When the password was last set (creation or reset). */
  passwordSetAt: z.string(),
});
export type SipDevice = z.infer<typeof SipDevice>;

/**
 * Adding a device. `username` defaults to the user's address local part (`alice`, then `alice-2`, ...);
 * `password` defaults to a generated one; a chosen one must pass the strength rule.
 */
export const CreateSipDeviceRequest = z.strictObject({
  name: SipDeviceName.optional(),
  username: SipUsername.optional(),
  password: SipPassword.optional(),
});
export type CreateSipDeviceRequest = z.input<typeof CreateSipDeviceRequest>;

/** Renaming a device. */
export const UpdateSipDeviceRequest = z.strictObject({ name: SipDeviceName });

/** A new password for a device: a chosen one, or (empty body) a generated one. */
export const ResetSipPasswordRequest = z.strictObject({ password: SipPassword.optional() });

/** What to type into the phone. `port` serves UDP and TCP; `tlsPort` is null when SIP over TLS is off. */
export const SipDeviceSettings = z.object({
  username: z.string(),
  /** Shown once: this answer is the only one that carries it. */
  password: z.string(),
  /** The SIP domain (registrar and digest realm). */
  domain: z.string(),
  /** The outbound proxy / registrar server the phone sends to. */
  proxyAddress: z.string(),
  port: z.number().int(),
  tlsPort: z.number().int().nullable(),
});
export type SipDeviceSettings = z.infer<typeof SipDeviceSettings>;

/** Kinds of phone configuration text the server writes for a device. */
export const ProvisioningKind = z.enum(['baresip', 'yealink']);
export type ProvisioningKind = z.infer<typeof ProvisioningKind>;

/** Configuration text for one kind of phone, ready to paste (it holds the password). */
export const ProvisioningText = z.object({
  kind: ProvisioningKind,
  /** What it is and where it goes ("baresip: a line of ~/.baresip/accounts"). */
  title: z.string(),
  text: z.string(),
});
export type ProvisioningText = z.infer<typeof ProvisioningText>;

/** The answer to creating a device or resetting its password: the only time the password is shown. */
export const SipDeviceCredentials = z.object({
  device: SipDevice,
  settings: SipDeviceSettings,
  provisioning: z.array(ProvisioningText),
});
export type SipDeviceCredentials = z.infer<typeof SipDeviceCredentials>;

export const SipDeviceList = z.object({ items: z.array(SipDevice) });
export type SipDeviceList = z.infer<typeof SipDeviceList>;

export const SipDeviceParams = z.strictObject({ deviceId: Id });

/**
 * Numbers that are never an extension: emergency numbers a phone must always reach (112 in Europe and
 * on every GSM phone, 911 in North America, 999 in the UK). Extensions also never start with 0, the
 * usual prefix for an outside line.
 */
export const RESERVED_EXTENSIONS: readonly string[] = ['112', '911', '999'];

/** An extension: a short number of 2 to 8 digits, unique in its tenant. */
export const Extension = z
  .string()
  .trim()
  .regex(/^[1-9][0-9]{1,7}$/, 'must be 2 to 8 digits, not starting with 0')
  .refine((s) => !RESERVED_EXTENSIONS.includes(s), 'is an emergency number, never an extension');

export const SetExtensionRequest = z.strictObject({ extension: Extension });

/** A user's extension (null: none). */
export const UserExtension = z.object({ userId: z.string(), extension: z.string().nullable() });
export type UserExtension = z.infer<typeof UserExtension>;

/** One row of the tenant's extension list. */
export const ExtensionEntry = z.object({
  extension: z.string(),
  userId: z.string(),
  address: z.string(),
  displayName: z.string(),
});
export type ExtensionEntry = z.infer<typeof ExtensionEntry>;

export const ExtensionList = z.object({ items: z.array(ExtensionEntry) });
export type ExtensionList = z.infer<typeof ExtensionList>;
