/**
 * `parley number ...`: the number inventory on an open storage, as the operator's and the tenant admin's
 * HTTP APIs keep it (telephony/routes.ts). A number is a carrier's (named as billing names it), may be
 * given to a tenant (by domain) and, within that tenant, to a user (by address). `--user` alone gives
 * the number to the tenant the address belongs to; `--tenant` with a `--user` of another tenant is
 * refused: a number never crosses the wall between tenants.
 *
 * The number may be typed as people write it (`+44 20 7946 0018`); it must be international (with +)
 * and valid, and is kept in E.164.
 */
import { Address, Domain, ParleyError } from '@parley/protocol';
import type { Storage } from '../storage/db.ts';
import { AuditLog, systemActor } from '../audit/audit-log.ts';
import { Directory } from '../directory/directory.ts';
import { trustedScope } from '../directory/scope.ts';
import { TelephonyStore } from '../telephony/telephony-store.ts';
import { dial } from '../telephony/dial-plan.ts';
import { importNumberCsv } from '../telephony/number-import.ts';
import type { PhoneNumber } from '../telephony/numbers.ts';
import { CarrierCommands } from './carrier-commands.ts';
import { check } from './check.ts';

/** A number as printed: the inventory row with the names beside the ids. */
export interface NumberView extends PhoneNumber {
  carrier: string | null;
  tenant: string | null;
  user: string | null;
}

export class NumberCommands {
  private readonly telephony: TelephonyStore;
  private readonly directory: Directory;
  private readonly carriers: CarrierCommands;
  private readonly audit: AuditLog;
  private readonly actor = systemActor('cli');

  constructor(private readonly storage: Storage) {
    this.telephony = new TelephonyStore(storage.db);
    this.directory = new Directory(storage);
    this.carriers = new CarrierCommands(storage);
    this.audit = new AuditLog(storage.db);
  }

  /** `number add`: into the inventory, optionally given to a tenant and a user of it. */
  async add(a: { carrier: string; number: string; tenant?: string; user?: string }): Promise<NumberView> {
    const number = e164(a.number);
    const carrier = await this.carriers.billingCarrier(a.carrier).catch((err: unknown) => {
      if (err instanceof ParleyError) throw new ParleyError(err.code, err.message, { field: '--carrier' });
      throw err;
    });
    let tenantId: string | null = null;
    if (a.tenant !== undefined) {
      const t = await this.directory.findTenantByDomain(check(Domain, a.tenant, '--tenant'));
      if (!t)
        throw new ParleyError('not_found', `no tenant has the domain ${a.tenant}`, { field: '--tenant' });
      tenantId = t.id;
    }
    let userId: string | null = null;
    if (a.user !== undefined) {
      const u = await this.directory.findUserRecordByAddress(check(Address, a.user, '--user'));
      if (!u || (tenantId !== null && u.tenant_id !== tenantId))
        throw new ParleyError(
          'not_found',
          tenantId === null ? `no user has the address ${a.user}` : `${a.tenant} has no user ${a.user}`,
          { field: '--user' },
        );
      tenantId = u.tenant_id;
      userId = u.id;
    }
    let n: PhoneNumber;
    try {
      n = await this.telephony.addNumber({ number, carrierId: carrier.id, tenantId, userId });
    } catch (err) {
      if (err instanceof ParleyError && err.code === 'conflict')
        throw new ParleyError('conflict', err.message, { field: '--number' });
      throw err;
    }
    await this.audit.record(this.actor, {
      tenantId: n.tenantId,
      action: 'telephony.number.add',
      target: n.number,
      detail: { carrierId: n.carrierId, userId: n.userId },
    });
    return (await this.view([n]))[0]!;
  }

  /**
   * `number import FILE.csv`: every row of the file (`number,carrier,tenant`, telephony/number-import.ts)
   * or, when any row is bad, none (numbers_invalid, each bad row with its row number).
   */
  async import(a: { csv: string }): Promise<{ imported: number; items: NumberView[] }> {
    const items = await importNumberCsv(this.storage.db, a.csv);
    for (const n of items)
      await this.audit.record(this.actor, {
        tenantId: n.tenantId,
        action: 'telephony.number.add',
        target: n.number,
        detail: { carrierId: n.carrierId, userId: null, imported: true },
      });
    return { imported: items.length, items: await this.view(items) };
  }

  /** `number list`: the inventory, or one tenant's numbers (`--tenant`), or one carrier's (`--carrier`). */
  async list(a: { tenant?: string; carrier?: string }): Promise<{ items: NumberView[] }> {
    let items: PhoneNumber[];
    if (a.tenant !== undefined) {
      const t = await this.directory.findTenantByDomain(check(Domain, a.tenant, '--tenant'));
      if (!t)
        throw new ParleyError('not_found', `no tenant has the domain ${a.tenant}`, { field: '--tenant' });
      items = await this.telephony.tenantNumbers(trustedScope(t.id));
    } else {
      items = await this.telephony.listNumbers();
    }
    if (a.carrier !== undefined) {
      const c = await this.carriers.billingCarrier(a.carrier);
      items = items.filter((n) => n.carrierId === c.id);
    }
    return { items: await this.view(items) };
  }

  /** `number remove`: out of the inventory (its user loses it as caller ID). */
  async remove(a: { number: string }): Promise<{ removed: string }> {
    const number = e164(a.number);
    const n = await this.telephony.byNumber(number);
    if (!n) throw new ParleyError('not_found', `${number} is not in the inventory`, { field: '--number' });
    await this.telephony.removeNumber(number);
    await this.audit.record(this.actor, {
      tenantId: n.tenantId,
      action: 'telephony.number.remove',
      target: number,
    });
    return { removed: number };
  }

  /** The carrier's, tenant's and user's names beside their ids (null where the row names none). */
  private async view(items: PhoneNumber[]): Promise<NumberView[]> {
    const carriers = new Map(
      (await this.storage.db.selectFrom('billing_carriers').select(['id', 'name']).execute()).map((c) => [
        c.id,
        c.name,
      ]),
    );
    const tenants = new Map<string, string | null>();
    const users = new Map<string, string | null>();
    const out: NumberView[] = [];
    for (const n of items) {
      if (n.tenantId !== null && !tenants.has(n.tenantId))
        tenants.set(n.tenantId, (await this.directory.getTenant(n.tenantId))?.domains[0] ?? null);
      if (n.userId !== null && !users.has(n.userId)) {
        const u = await this.storage.db
          .selectFrom('users')
          .select('address')
          .where('id', '=', n.userId)
          .where('tenant_id', '=', n.tenantId ?? '')
          .executeTakeFirst();
        users.set(n.userId, u?.address ?? null);
      }
      out.push({
        ...n,
        carrier: carriers.get(n.carrierId) ?? null,
        tenant: n.tenantId === null ? null : (tenants.get(n.tenantId) ?? null),
        user: n.userId === null ? null : (users.get(n.userId) ?? null),
      });
    }
    return out;
  }
}

/** `+44 20 7946 0018` -> `+442079460018`; a national or invalid number is refused naming --number. */
function e164(typed: string): string {
  try {
    const d = dial(typed, { country: '' });
    if (d.kind === 'number') return d.e164;
  } catch (err) {
    if (!(err instanceof ParleyError)) throw err;
    throw new ParleyError('validation_failed', `--number: ${err.message}`, { field: '--number' });
  }
  throw new ParleyError('validation_failed', '--number: an international number with +, not an extension', {
    field: '--number',
  });
}
