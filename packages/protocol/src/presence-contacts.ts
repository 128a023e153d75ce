/**
 * Contacts: each user's own list of people (same tenant), in named groups, some marked favourite.
 * Persisted by the server; the web app shows their presence from a subscription to the listed ids.
 */
import { z } from 'zod';
import { DisplayText, Id, User } from './api.ts';

export const ContactGroup = z.object({
  id: z.string(),
  name: z.string(),
  /** Display order, ascending. */
  position: z.number().int(),
  createdAt: z.string(),
});
export type ContactGroup = z.infer<typeof ContactGroup>;

export const Contact = z.object({
  userId: z.string(),
  /** Null: the default "Contacts" group. */
  groupId: z.string().nullable(),
  favourite: z.boolean(),
  addedAt: z.string(),
  user: User,
});
export type Contact = z.infer<typeof Contact>;

export const ContactList = z.object({ groups: z.array(ContactGroup), contacts: z.array(Contact) });
export type ContactList = z.infer<typeof ContactList>;

/** Add a contact or change one. Omitted fields keep their value (or default when adding). */
export const PutContactRequest = z.strictObject({
  groupId: Id.nullable().optional(),
  favourite: z.boolean().optional(),
});
export type PutContactRequest = z.infer<typeof PutContactRequest>;

export const CreateContactGroupRequest = z.strictObject({
  name: DisplayText(100),
  position: z.number().int().min(0).max(10_000).optional(),
});
export const UpdateContactGroupRequest = z.strictObject({
  name: DisplayText(100).optional(),
  position: z.number().int().min(0).max(10_000).optional(),
});
