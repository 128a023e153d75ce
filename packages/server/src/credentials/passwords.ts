/** Password hashing with argon2id (OWASP's first choice), in a native addon that needs no build. */
import { hash, verify } from '@node-rs/argon2';
import { assertStrongPassword, passwordContext } from './password-strength.ts';

// Algorithm.Argon2id; the enum is a const enum that isolated modules cannot read.
const ARGON2ID = 2;

const options = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/**
 * The hash to store for a new password. Every path that sets one comes through here, so every one
 * refuses a guessable password (`weak_password`, see password-strength.ts). `context`: the account's
 * address and name, which the password must not lean on.
 */
export async function hashPassword(
  password: string,
  context: Array<string | null | undefined> = [],
): Promise<string> {
  await assertStrongPassword(password, passwordContext(...context));
  return hash(password, options);
}

// Verified against when the account does not exist, so a miss costs the same time as a wrong password.
let decoy: Promise<string> | undefined;

export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (!stored) {
    decoy ??= hash('decoy password that never matches', options);
    await verify(await decoy, password + '\u0000').catch(() => false);
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}
