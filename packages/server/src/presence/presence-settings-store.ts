/**
 * Persisted presence settings. Devices' states are ephemeral, but what a user sets by hand (a status
 * note, an out-of-office message for two weeks, "Busy until 17:00") must survive a server restart, as a
 * Teams user expects. Written through on every change; read once at start.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { settingsEmpty, type UserPresenceSettings } from './presence-state.ts';

export interface StoredSettings {
  tenantId: string;
  userId: string;
  settings: UserPresenceSettings;
}

export class PresenceSettingsStore {
  /** Saves run one after another, so a later change is never overwritten by an earlier one. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly db: Kysely<Database>) {}

  /** Saves a user's settings (deleting the row when nothing is set). */
  save(tenantId: string, userId: string, settings: UserPresenceSettings): Promise<void> {
    const next = this.chain.then(() => this.write(tenantId, userId, settings));
    this.chain = next.catch(() => {});
    return next;
  }

  /** Resolves when every save so far has been written (before the database closes). */
  flush(): Promise<void> {
    return this.chain;
  }

  private async write(tenantId: string, userId: string, settings: UserPresenceSettings): Promise<void> {
    if (settingsEmpty(settings)) {
      await this.db.deleteFrom('presence_settings').where('user_id', '=', userId).execute();
      return;
    }
    const row = {
      user_id: userId,
      tenant_id: tenantId,
      settings: JSON.stringify(settings),
      updated_at: Date.now(),
    };
    await this.db
      .insertInto('presence_settings')
      .values(row)
      .onConflict((oc) =>
        oc.column('user_id').doUpdateSet({ settings: row.settings, updated_at: row.updated_at }),
      )
      .execute();
  }

  /** Every stored setting not yet expired at `now`. */
  async loadAll(now = Date.now()): Promise<StoredSettings[]> {
    const rows = await this.db.selectFrom('presence_settings').selectAll().execute();
    const live = <T extends { until: number | null }>(x: T | null) =>
      x && (x.until === null || x.until > now) ? x : null;
    const out: StoredSettings[] = [];
    for (const r of rows) {
      const s = JSON.parse(r.settings) as UserPresenceSettings;
      const settings = { manual: live(s.manual), note: live(s.note), outOfOffice: live(s.outOfOffice) };
      if (!settingsEmpty(settings)) out.push({ tenantId: r.tenant_id, userId: r.user_id, settings });
    }
    return out;
  }
}
