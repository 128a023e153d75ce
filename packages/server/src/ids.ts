import { randomBytes } from 'node:crypto';

/**
 * A new id: a short type prefix and 16 random bytes in base64url (URL- and log-safe). Ids are opaque and
 * unguessable, so one tenant cannot enumerate another's resources.
 */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

export const iso = (ms: number): string => new Date(ms).toISOString();
