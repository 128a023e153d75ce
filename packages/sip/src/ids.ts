/**
 * Identifiers the stack generates: Via branches (RFC 3261 section 8.1.1.7), tags (section 19.3)
 * and Call-IDs (section 8.1.1.4). Random enough to be globally unique, cheap to make.
 */
import { randomBytes } from 'node:crypto';
import { MAGIC_COOKIE } from './via.ts';

let pool = Buffer.alloc(0);
let pos = 0;

function randomHex(bytes: number): string {
  if (pos + bytes > pool.length) {
    pool = randomBytes(4096);
    pos = 0;
  }
  const s = pool.toString('hex', pos, pos + bytes);
  pos += bytes;
  return s;
}

export function newBranch(): string {
  return MAGIC_COOKIE + randomHex(10);
}

export function newTag(): string {
  return randomHex(8);
}

export function newCallId(host?: string): string {
  return host ? `${randomHex(12)}@${host}` : randomHex(16);
}
