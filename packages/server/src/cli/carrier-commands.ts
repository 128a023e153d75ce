/**
 * `parley carrier ...`: a carrier's SIP trunk on an open storage, as the operator's HTTP API sets it
 * (telephony/routes.ts). The carrier is named as billing names it: `carrier add --name N` finds billing's
 * carrier of that name, or creates it when billing has none (so `carrier add` alone is enough to start
 * routing; cost decks can be imported for it later), then sets its trunk side.
 *
 * A running server reads trunks into a cache at start and after its own writes (telephony-store.ts), so
 * a trunk added here reaches a running server at its next start; through the HTTP API it applies at once.
 */
import { Domain, ParleyError } from '@parley/protocol';
import type { Storage } from '../storage/db.ts';
import { AuditLog, systemActor } from '../audit/audit-log.ts';
import { Directory } from '../directory/directory.ts';
import { DeckStore } from '../billing/deck-store.ts';
import { TelephonyStore } from '../telephony/telephony-store.ts';
import { PutTrunkRequest } from '../telephony/routes.ts';
import type { TrunkCarrier } from '../telephony/carriers.ts';
import { check } from './check.ts';

export interface CarrierAddArgs {
  name: string;
  /** `HOST:PORT`, several separated by commas (tried in order). */
  address: string;
  transport?: string;
  /** Source addresses, separated by commas; absent: the hosts of `address`. */
  allow?: string;
  /** A tenant's domain: the tenant's own carrier (as Teams Direct Routing). */
  tenant?: string;
  /** Codecs in order, separated by commas. */
  codecs?: string;
  callerId?: string;
  channels?: string;
  /** `ip` (the default) or `register`: Parley registers to `registrar` as `username`. */
  auth?: string;
  username?: string;
  password?: string;
  authUsername?: string;
  /** `HOST:PORT` of the registrar; absent: the first `address`. */
  registrar?: string;
  /** Our address of record's domain, when not the registrar's host. */
  domain?: string;
  /** Least-cost routing's tie-break between carriers of the same cost, lower first (0). */
  preference?: string;
  /** The carrier for emergency calls (emergency.ts). */
  emergency?: boolean;
  /** Emergency calls carry the caller's location as PIDF-LO (RFC 6442). */
  pidfLo?: boolean;
}

/**
 * `carrier update`: the routing preference and the emergency flags of an existing trunk (`yes` or
 * `no` each); what is absent stays as it is.
 */
export interface CarrierUpdateArgs {
  name: string;
  preference?: string;
  emergency?: string;
  pidfLo?: string;
}

/** A list option: `a, b,c` is `['a','b','c']`. */
export const commaList = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** `HOST:PORT` (or `[v6]:PORT`; the port defaults to 5060, SIP's). */
function hostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text);
  const port = m?.[3] === undefined ? 5060 : Number(m[3]);
  if (!m || port < 1 || port > 65535)
    throw new ParleyError('validation_failed', `--address: ${text} is not HOST:PORT`, { field: '--address' });
  return { host: (m[1] ?? m[2])!, port };
}

/** A trunk as printed: with its tenant's domain (null: the operator's carrier, for every tenant). */
export type TrunkView = TrunkCarrier & { tenant: string | null };

/** The flag of each trunk setting, to name it in a refusal. */
const FLAGS: Record<string, string> = {
  addresses: '--address',
  transport: '--transport',
  allow: '--allow',
  codecs: '--codecs',
  callerIdFormat: '--caller-id',
  channelLimit: '--channels',
  auth: '--auth',
  registration: '--username',
  preference: '--preference',
};

export class CarrierCommands {
  private readonly decks: DeckStore;
  private readonly telephony: TelephonyStore;
  private readonly directory: Directory;
  private readonly audit: AuditLog;
  private readonly actor = systemActor('cli');

  constructor(storage: Storage) {
    this.decks = new DeckStore(storage.db);
    this.telephony = new TelephonyStore(storage.db);
    this.directory = new Directory(storage);
    this.audit = new AuditLog(storage.db);
  }

  /** `carrier add`: billing's carrier (created if none has the name) gains its SIP trunk. */
  async add(a: CarrierAddArgs): Promise<TrunkView & { created: boolean }> {
    const addresses = commaList(a.address).map(hostPort);
    // A registration trunk: the carrier knows us by account, not by address (trunk-registration.ts).
    const register = a.auth === 'register';
    if (register && (!a.username || !a.password))
      throw new ParleyError('validation_failed', '--auth register needs --username and --password', {
        field: a.username ? '--password' : '--username',
      });
    const tenantId = a.tenant === undefined ? null : await this.tenantId(a.tenant);
    const parsed = PutTrunkRequest.safeParse({
      tenantId,
      addresses,
      transport: a.transport,
      allow: a.allow === undefined ? [...new Set(addresses.map((x) => x.host))] : commaList(a.allow),
      codecs: a.codecs === undefined ? undefined : commaList(a.codecs).map((c) => c.toUpperCase()),
      callerIdFormat: a.callerId,
      channelLimit: a.channels === undefined ? null : Number(a.channels),
      preference: a.preference === undefined ? undefined : Number(a.preference),
      auth: a.auth,
      registration: register
        ? {
            registrar: a.registrar === undefined ? addresses[0] : hostPort(a.registrar),
            username: a.username,
            password: a.password,
            authUsername: a.authUsername ?? null,
            domain: a.domain ?? null,
          }
        : null,
      emergency: a.emergency === true,
      pidfLo: a.pidfLo === true,
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const flag = FLAGS[String(issue.path[0])] ?? '--address';
      throw new ParleyError('validation_failed', `${flag}: ${issue.message}`, { field: flag });
    }
    // --password is required above for a registration trunk (the HTTP API may keep a stored one).
    const settings = {
      ...parsed.data,
      registration: parsed.data.registration && { ...parsed.data.registration, password: a.password! },
    };
    let billing = await this.billingCarrier(a.name, { optional: true });
    if (billing && (await this.trunkOf(billing.id)))
      throw new ParleyError(
        'conflict',
        `${billing.name} already has a SIP trunk: remove it first (parley carrier remove --name ${billing.name}).`,
        { field: '--name' },
      );
    const created = !billing;
    if (!billing) {
      try {
        billing = await this.decks.createCarrier(a.name);
      } catch (err) {
        throw new ParleyError('validation_failed', `--name: ${(err as Error).message}`, { field: '--name' });
      }
      await this.audit.record(this.actor, {
        tenantId: null,
        action: 'billing.carrier.create',
        target: billing.id,
        detail: { name: billing.name },
      });
    }
    const t = await this.telephony.putTrunk({ id: billing.id, ...settings });
    await this.audit.record(this.actor, {
      tenantId: null,
      action: 'telephony.carrier.put',
      target: t.id,
      detail: { addresses: t.addresses, allow: t.allow, transport: t.transport, enabled: t.enabled },
    });
    return { ...(await this.view([t]))[0]!, created };
  }

  /**
   * `carrier update --name N [--preference P] [--emergency yes|no] [--pidf-lo yes|no]`: the trunk's
   * routing preference (the tie-break between carriers that cost the same for a number,
   * least-cost.ts) and whether it takes emergency calls, with PIDF-LO; its other settings stay.
   */
  async update(a: CarrierUpdateArgs): Promise<TrunkView> {
    const yesNo = (v: string | undefined, flag: string): boolean | undefined => {
      if (v === undefined) return undefined;
      if (v === 'yes' || v === 'true') return true;
      if (v === 'no' || v === 'false') return false;
      throw new ParleyError('validation_failed', `${flag}: yes or no`, { field: flag });
    };
    const emergency = yesNo(a.emergency, '--emergency');
    const pidfLo = yesNo(a.pidfLo, '--pidf-lo');
    let preference: number | undefined;
    if (a.preference !== undefined) {
      const p = PutTrunkRequest.shape.preference.safeParse(
        a.preference.trim() === '' ? NaN : Number(a.preference),
      );
      if (!p.success)
        throw new ParleyError('validation_failed', '--preference: a whole number from -1000 to 1000', {
          field: '--preference',
        });
      preference = p.data;
    }
    if (preference === undefined && emergency === undefined && pidfLo === undefined)
      throw new ParleyError(
        'validation_failed',
        'nothing to update: give --preference, --emergency or --pidf-lo',
        { field: '--preference' },
      );
    const c = await this.billingCarrier(a.name);
    const trunk = await this.trunkOf(c.id);
    if (!trunk)
      throw new ParleyError('not_found', `${c.name} has no SIP trunk: add one first (parley carrier add).`, {
        field: '--name',
      });
    const t = await this.telephony.putTrunk({
      ...trunk,
      preference: preference ?? trunk.preference ?? 0,
      emergency: emergency ?? trunk.emergency === true,
      pidfLo: pidfLo ?? trunk.pidfLo === true,
    });
    await this.audit.record(this.actor, {
      tenantId: null,
      action: 'telephony.carrier.put',
      target: t.id,
      detail: { preference: t.preference, emergency: t.emergency === true, pidfLo: t.pidfLo === true },
    });
    return (await this.view([t]))[0]!;
  }

  /** `carrier list`: every carrier with a SIP trunk. */
  async list(): Promise<{ items: TrunkView[] }> {
    return { items: await this.view(await this.telephony.listTrunks()) };
  }

  /** The tenant's domain beside a tenant's own carrier's tenant id. */
  private async view(trunks: TrunkCarrier[]): Promise<TrunkView[]> {
    const out: TrunkView[] = [];
    for (const t of trunks) {
      const tenant = t.tenantId === null ? null : await this.directory.getTenant(t.tenantId);
      out.push({ ...t, tenant: tenant?.domains[0] ?? null });
    }
    return out;
  }

  /** `carrier remove`: the trunk side only; billing's carrier and its decks stay (as over HTTP). */
  async remove(a: { name: string }): Promise<{ removed: string }> {
    const c = await this.billingCarrier(a.name);
    if (!(await this.trunkOf(c.id)))
      throw new ParleyError('not_found', `${c.name} has no SIP trunk`, { field: '--name' });
    await this.telephony.removeTrunk(c.id);
    await this.audit.record(this.actor, {
      tenantId: null,
      action: 'telephony.carrier.remove',
      target: c.id,
    });
    return { removed: c.id };
  }

  /**
   * Billing's carrier named `nameOrId` (its id, or its name ignoring case). Names are not unique in
   * billing: two of one name are refused as ambiguous rather than one picked.
   */
  async billingCarrier(nameOrId: string, o: { optional: true }): Promise<{ id: string; name: string } | null>;
  async billingCarrier(nameOrId: string, o?: { optional: false }): Promise<{ id: string; name: string }>;
  async billingCarrier(nameOrId: string, o: { optional: boolean } = { optional: false }) {
    const all = await this.decks.listCarriers();
    const byId = all.find((c) => c.id === nameOrId);
    if (byId) return byId;
    const named = all.filter((c) => c.name.toLowerCase() === nameOrId.trim().toLowerCase());
    if (named.length > 1)
      throw new ParleyError(
        'conflict',
        `${named.length} carriers are named ${nameOrId}: name one by its id (${named.map((c) => c.id).join(', ')})`,
        { field: '--name' },
      );
    if (!named[0] && !o.optional)
      throw new ParleyError('not_found', `no carrier is named ${nameOrId}`, { field: '--name' });
    return named[0] ?? null;
  }

  private async trunkOf(carrierId: string): Promise<TrunkCarrier | undefined> {
    return (await this.telephony.listTrunks()).find((t) => t.id === carrierId);
  }

  private async tenantId(domain: string): Promise<string> {
    const t = await this.directory.findTenantByDomain(check(Domain, domain, '--tenant'));
    if (!t) throw new ParleyError('not_found', `no tenant has the domain ${domain}`, { field: '--tenant' });
    return t.id;
  }
}
