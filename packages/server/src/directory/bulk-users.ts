/**
 * Adding many users at once (a tenant admin's CSV import, sent in batches): every row is checked and
 * created on its own, as `POST /api/users` would, so one bad row never refuses the others and the answer
 * says, row by row, what became of each. Each created row commits with its audit entry in one
 * transaction (enrolUser); a row that fails writes nothing. A retried batch creates no duplicates: the
 * rows that made it the first time answer `duplicate_address`.
 */
import { z } from 'zod';
import {
  BulkCreateUsersRequest,
  BulkCreateUsersResponse,
  CreateUserRequest,
  ParleyError,
  type BulkUserResult,
} from '@parley/protocol';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { Actor } from '../audit/audit-log.ts';
import type { TenantScope } from './scope.ts';
import { enrolHashed, type EnrolDeps } from './enrol.ts';
import { hashPassword } from '../credentials/passwords.ts';

/**
 * Passwords hashed at once. Hashing (argon2id, tens of milliseconds) is most of a row's time and runs on
 * libuv's thread pool, so a few at a time keep the cores busy; the writes then go one by one in row
 * order, so of two rows with one address the first is created and the second is the duplicate.
 */
const PARALLEL_HASHES = 4;

type RowError = { code: string; message: string; field?: string };

/** The coded error of a row that does not parse, worded as the HTTP edge words a body's. */
function rowValidationError(error: z.ZodError): RowError {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys')
    return {
      code: 'validation_failed',
      message: `unknown field ${issue.keys.join(', ')}`,
      field: issue.keys[0],
    };
  const field = issue.path.map(String).join('.');
  return {
    code: 'validation_failed',
    message: field ? `${field}: ${issue.message}` : issue.message,
    ...(field ? { field } : {}),
  };
}

/** A coded refusal is a row's answer (a taken address, a weak password, a full disk); a bug is not. */
function rowError(err: unknown): RowError {
  if (!(err instanceof ParleyError)) throw err;
  const { code, message, field } = err.toBody().error;
  return { code, message, ...(field ? { field } : {}) };
}

/** Enrols each row; the results are in the order of `rows`. */
export async function enrolUsers(
  deps: EnrolDeps,
  scope: TenantScope,
  actor: Actor,
  rows: ReadonlyArray<Record<string, unknown>>,
): Promise<BulkUserResult[]> {
  const parsed = rows.map((row) => CreateUserRequest.safeParse(row));
  const hashes: Array<string | RowError> = new Array(rows.length);
  let next = 0;
  const hasher = async () => {
    for (let i = next++; i < rows.length; i = next++) {
      const p = parsed[i]!;
      if (!p.success) continue;
      try {
        hashes[i] = await hashPassword(p.data.password, [p.data.address, p.data.displayName]);
      } catch (err) {
        hashes[i] = rowError(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_HASHES, rows.length) }, hasher));

  const results: BulkUserResult[] = [];
  for (const [index, p] of parsed.entries()) {
    const hash = hashes[index];
    if (!p.success) results.push({ index, status: 'error', error: rowValidationError(p.error) });
    else if (typeof hash !== 'string') results.push({ index, status: 'error', error: hash! });
    else {
      try {
        const user = await enrolHashed(deps, scope, actor, p.data, hash);
        results.push({ index, status: 'created', user });
      } catch (err) {
        results.push({ index, status: 'error', error: rowError(err) });
      }
    }
  }
  return results;
}

export function bulkUserRoutes(deps: EnrolDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/api/users/bulk',
      tag: 'directory',
      summary:
        'Add up to 500 users in one request (a CSV import in batches); each row is created or refused on its own, answered per row (tenant admin)',
      access: 'admin',
      body: BulkCreateUsersRequest,
      example: {
        rows: [
          {
            address: 'new.person@contoso.example',
            displayName: 'New Person',
            password: 'copper-kettle-morning',
          },
        ],
      },
      response: BulkCreateUsersResponse,
      handler: async ({ scope, actor, body }) => {
        const results = await enrolUsers(deps, scope, actor, body.rows);
        const created = results.filter((r) => r.status === 'created').length;
        return { created, failed: results.length - created, results };
      },
    }),
  ];
}
