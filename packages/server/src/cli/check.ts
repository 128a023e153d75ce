import { ParleyError } from '@parley/protocol';

/** Parses a command-line value with its schema; a bad one is `validation_failed` naming the flag. */
export const check = <T>(
  schema: {
    safeParse(
      v: unknown,
    ): { success: true; data: T } | { success: false; error: { issues: Array<{ message: string }> } };
  },
  value: unknown,
  flag: string,
): T => {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new ParleyError('validation_failed', `${flag}: ${r.error.issues[0]!.message}`, { field: flag });
  return r.data;
};
