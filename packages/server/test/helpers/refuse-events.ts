/**
 * Injects a failure in the real database: a trigger that refuses every insert into `user_events`, on
 * either engine, so a test can prove that a change and its durable events commit together.
 */
import { sql } from 'kysely';
import type { Storage } from '../../src/storage/db.ts';

/** Installs the trigger; resolves to a function that removes it. */
export async function refuseEventWrites(
  storage: Pick<Storage, 'engine' | 'write'>,
): Promise<() => Promise<void>> {
  const run = (statement: string) => storage.write((tx) => sql.raw(statement).execute(tx));
  const pg = storage.engine === 'postgres';
  if (pg) {
    await run(`create or replace function refuse_user_event() returns trigger language plpgsql as
      $$ begin raise exception 'injected failure: user_events refused'; end $$`);
    await run(`create trigger refuse_user_event before insert on user_events
      for each row execute function refuse_user_event()`);
  } else
    await run(`create trigger refuse_user_event before insert on user_events
      begin select raise(abort, 'injected failure: user_events refused'); end`);
  return async () => {
    await run(`drop trigger refuse_user_event${pg ? ' on user_events' : ''}`);
  };
}
