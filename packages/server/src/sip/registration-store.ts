/**
 * Bindings in the database, so registrations survive a restart (issue 16: "stored, not only in
 * memory"). The registrar writes a device's whole change (added, refreshed and removed contacts of
 * one REGISTER) in one transaction through the writer queue and answers 200 only after it
 * committed: acknowledged means stored. At start every binding still live is loaded and the lapsed
 * ones are deleted.
 *
 * The flow's connection id is not stored: a connection does not outlive the process, so a reloaded
 * stream binding is reached by a new connection to its address and port, and keep-alive removes it
 * when nothing answers there.
 */
import type { TransportProtocol } from '@parley/sip';
import type { StorageHandle } from '../storage/db.ts';
import type { SipRegistrationsTable } from './registration-tables.ts';
import type { Binding } from './registrations.ts';

/** One REGISTER's effect on a device's bindings. */
export interface BindingChanges {
  put: Binding[];
  remove: string[];
}

export class RegistrationStore {
  constructor(private readonly storage: StorageHandle) {}

  /** Writes one REGISTER's changes in one transaction. */
  async apply(changes: BindingChanges): Promise<void> {
    if (changes.put.length === 0 && changes.remove.length === 0) return;
    await this.storage.write(async (tx) => {
      if (changes.remove.length > 0)
        await tx.deleteFrom('sip_registrations').where('binding_id', 'in', changes.remove).execute();
      for (const b of changes.put) {
        const row = toRow(b);
        await tx
          .insertInto('sip_registrations')
          .values(row)
          .onConflict((oc) =>
            oc.column('binding_id').doUpdateSet({
              protocol: row.protocol,
              address: row.address,
              port: row.port,
              call_id: row.call_id,
              cseq: row.cseq,
              q: row.q,
              instance: row.instance,
              user_agent: row.user_agent,
              expires_at: row.expires_at,
            }),
          )
          .execute();
      }
    });
  }

  /** Deletes bindings (lapsed, unreachable). */
  async remove(bindingIds: string[]): Promise<void> {
    if (bindingIds.length === 0) return;
    await this.storage.write((tx) =>
      tx.deleteFrom('sip_registrations').where('binding_id', 'in', bindingIds).execute(),
    );
  }

  /** Deletes the lapsed bindings and returns the live ones. */
  async load(now: number): Promise<Binding[]> {
    await this.storage.write((tx) =>
      tx.deleteFrom('sip_registrations').where('expires_at', '<=', now).execute(),
    );
    const rows = await this.storage.db
      .selectFrom('sip_registrations')
      .selectAll()
      .where('expires_at', '>', now)
      .execute();
    return rows.map(fromRow);
  }
}

function toRow(b: Binding): SipRegistrationsTable {
  return {
    binding_id: b.bindingId,
    tenant_id: b.tenantId,
    user_id: b.userId,
    device_id: b.deviceId,
    aor: b.aor,
    contact: b.contact,
    protocol: b.flow.protocol,
    address: b.flow.address,
    port: b.flow.port,
    call_id: b.callId,
    cseq: b.cseq,
    q: Math.round(b.q * 1000),
    instance: b.instance ?? null,
    user_agent: b.userAgent ?? null,
    registered_at: b.registeredAt,
    expires_at: b.expiresAt,
  };
}

function fromRow(r: SipRegistrationsTable): Binding {
  return {
    bindingId: r.binding_id,
    tenantId: r.tenant_id,
    userId: r.user_id,
    deviceId: r.device_id,
    aor: r.aor,
    contact: r.contact,
    flow: { protocol: r.protocol as TransportProtocol, address: r.address, port: Number(r.port) },
    callId: r.call_id,
    cseq: Number(r.cseq),
    q: r.q / 1000,
    instance: r.instance ?? undefined,
    userAgent: r.user_agent ?? undefined,
    registeredAt: Number(r.registered_at),
    expiresAt: Number(r.expires_at),
  };
}
