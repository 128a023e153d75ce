/**
 * The administrative operations behind the CLI, on an open storage. Each returns a plain object, printed
 * as one JSON object with --json or as text otherwise.
 */
import { ParleyError, Address, CountryCode, Domain, DisplayText, Password, TimeZone } from '@parley/protocol';
import type { Storage } from '../storage/db.ts';
import { Directory } from '../directory/directory.ts';
import { AuditLog, systemActor } from '../audit/audit-log.ts';
import { trustedScope } from '../directory/scope.ts';
import { enrolUser } from '../directory/enrol.ts';
import { check } from './check.ts';

export interface TenantArgs {
  name: string;
  domain: string;
  country?: string;
  timeZone?: string;
}

export class AdminCommands {
  private readonly directory: Directory;
  private readonly audit: AuditLog;
  private readonly write: Storage['write'];
  private readonly actor = systemActor('cli');

  constructor(storage: Storage) {
    this.directory = new Directory(storage);
    this.audit = new AuditLog(storage.db);
    this.write = storage.write;
  }

  async createTenant(a: TenantArgs) {
    const input = {
      name: check(DisplayText(200), a.name, '--name'),
      domains: [check(Domain, a.domain, '--domain')],
      country: check(CountryCode, a.country ?? 'US', '--country'),
      timeZone: check(TimeZone, a.timeZone ?? 'UTC', '--time-zone'),
    };
    // The tenant and its audit entry commit together.
    return this.write(async (tx) => {
      const tenant = await this.directory.createTenant(input, tx);
      await this.audit.record(
        this.actor,
        { tenantId: tenant.id, action: 'tenant.create', target: tenant.id, detail: { name: tenant.name } },
        tx,
      );
      return tenant;
    });
  }

  async addUser(a: {
    tenant: string;
    address: string;
    name: string;
    password: string;
    role?: string;
    title?: string;
    department?: string;
  }) {
    const tenant = await this.directory.findTenantByDomain(check(Domain, a.tenant, '--tenant'));
    if (!tenant)
      throw new ParleyError('not_found', `no tenant has the domain ${a.tenant}`, { field: '--tenant' });
    const role = a.role ?? 'user';
    if (role !== 'user' && role !== 'admin')
      throw new ParleyError('validation_failed', '--role: must be user or admin', { field: '--role' });
    return enrolUser(
      { directory: this.directory, audit: this.audit, write: this.write },
      trustedScope(tenant.id),
      this.actor,
      {
        address: check(Address, a.address, '--address'),
        displayName: check(DisplayText(200), a.name, '--name'),
        password: check(Password, a.password, '--password'),
        title: a.title ?? null,
        department: a.department ?? null,
        role,
      },
    );
  }

  async addOperator(a: { address: string; password: string; name?: string }) {
    const address = check(Address, a.address, '--address');
    const tenant = await this.directory.operatorTenant(address.split('@')[1]!);
    return enrolUser(
      { directory: this.directory, audit: this.audit, write: this.write },
      trustedScope(tenant.id),
      this.actor,
      {
        address,
        displayName: check(DisplayText(200), a.name ?? 'Operator', '--name'),
        password: check(Password, a.password, '--password'),
        role: 'operator',
      },
    );
  }

  /** A demo tenant with a handful of users and an operator; running it again changes nothing. */
  async demo() {
    // Strong enough for the strength rule (zxcvbn >= 3 with the product's and the people's names).
    const password = 'copper-kettle-morning';
    const domain = 'contoso.example';
    let tenant = await this.directory.findTenantByDomain(domain);
    tenant ??= await this.createTenant({ name: 'Contoso', domain, country: 'GB', timeZone: 'Europe/London' });
    const people: Array<[string, string, 'admin' | 'user', string, string]> = [
      ['alice', 'Alice Archer', 'admin', 'IT Manager', 'IT'],
      ['bob', 'Bob Baker', 'user', 'Sales Lead', 'Sales'],
      ['carol', 'Carol Chen', 'user', 'Engineer', 'Engineering'],
      ['dave', 'Dave Dixon', 'user', 'Support Agent', 'Support'],
      ['erin', 'Erin Evans', 'user', 'Designer', 'Marketing'],
    ];
    const users = [];
    for (const [local, name, role, title, department] of people) {
      const address = `${local}@${domain}`;
      if (!(await this.directory.findUserRecordByAddress(address))) {
        await this.addUser({ tenant: domain, address, name, password, role, title, department });
      }
      users.push({ address, password, role });
    }
    const operator = { address: 'operator@parley.example', password: 'quartz-willow-lantern' };
    if (!(await this.directory.findUserRecordByAddress(operator.address))) await this.addOperator(operator);
    return { tenant: { id: tenant.id, name: tenant.name, domain }, users, operator };
  }
}
