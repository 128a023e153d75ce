/**
 * Contact lists: each user's own list of same-tenant people, in named groups, some marked favourite.
 * Every operation is scoped to the tenant and to the owner; another user's group looks like no group.
 * A contact is in at most one group (null: the default group); deleting a group moves its contacts to
 * the default group.
 */
import type { Kysely } from 'kysely';
import { ParleyError, type Contact, type ContactGroup, type ContactList } from '@parley/protocol';
import type { Database } from '../storage/schema.ts';
import type { TenantScope } from '../directory/scope.ts';
import { toUser } from '../directory/directory.ts';
import { iso, newId } from '../ids.ts';

/** Most contacts and groups one user may keep (a list a person can still read). */
export const CONTACT_LIMITS = { contacts: 2000, groups: 100 } as const;

export class ContactStore {
  constructor(private readonly db: Kysely<Database>) {}

  async list(scope: TenantScope, ownerId: string): Promise<ContactList> {
    const groups = await this.db
      .selectFrom('contact_groups')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('owner_id', '=', ownerId)
      .orderBy('position')
      .orderBy('created_at')
      .execute();
    const rows = await this.db
      .selectFrom('contacts')
      .innerJoin('users', 'users.id', 'contacts.contact_id')
      .selectAll('users')
      .select(['contacts.group_id', 'contacts.favourite', 'contacts.created_at as added_at'])
      .where('contacts.tenant_id', '=', scope.tenantId)
      .where('contacts.owner_id', '=', ownerId)
      .where('users.tenant_id', '=', scope.tenantId)
      .orderBy('users.search_name')
      .execute();
    return {
      groups: groups.map(groupOut),
      contacts: rows.map((r) => ({
        userId: r.id,
        groupId: r.group_id,
        favourite: r.favourite === 1,
        addedAt: iso(r.added_at),
        user: toUser(r),
      })),
    };
  }

  /** Adds `contactId` to the owner's list, or changes it. */
  async put(
    scope: TenantScope,
    ownerId: string,
    contactId: string,
    patch: { groupId?: string | null; favourite?: boolean },
  ): Promise<{ contact: Contact; added: boolean }> {
    const user = await this.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', contactId)
      .where('tenant_id', '=', scope.tenantId)
      .executeTakeFirst();
    if (!user) throw new ParleyError('not_found', 'no such user');
    if (patch.groupId) await this.requireGroup(scope, ownerId, patch.groupId);
    const existing = await this.db
      .selectFrom('contacts')
      .selectAll()
      .where('owner_id', '=', ownerId)
      .where('contact_id', '=', contactId)
      .where('tenant_id', '=', scope.tenantId)
      .executeTakeFirst();
    if (existing) {
      const values: { group_id?: string | null; favourite?: number } = {};
      if (patch.groupId !== undefined) values.group_id = patch.groupId;
      if (patch.favourite !== undefined) values.favourite = patch.favourite ? 1 : 0;
      if (Object.keys(values).length)
        await this.db
          .updateTable('contacts')
          .set(values)
          .where('owner_id', '=', ownerId)
          .where('contact_id', '=', contactId)
          .execute();
      const row = { ...existing, ...values };
      return {
        added: false,
        contact: {
          userId: contactId,
          groupId: row.group_id,
          favourite: row.favourite === 1,
          addedAt: iso(row.created_at),
          user: toUser(user),
        },
      };
    }
    const count = await this.db
      .selectFrom('contacts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('owner_id', '=', ownerId)
      .executeTakeFirstOrThrow();
    if (Number(count.n) >= CONTACT_LIMITS.contacts)
      throw new ParleyError(
        'limit_exceeded',
        `a contact list holds at most ${CONTACT_LIMITS.contacts} people`,
      );
    const now = Date.now();
    await this.db
      .insertInto('contacts')
      .values({
        owner_id: ownerId,
        contact_id: contactId,
        tenant_id: scope.tenantId,
        group_id: patch.groupId ?? null,
        favourite: patch.favourite ? 1 : 0,
        created_at: now,
      })
      .onConflict((oc) => oc.columns(['owner_id', 'contact_id']).doNothing())
      .execute();
    return {
      added: true,
      contact: {
        userId: contactId,
        groupId: patch.groupId ?? null,
        favourite: !!patch.favourite,
        addedAt: iso(now),
        user: toUser(user),
      },
    };
  }

  /** Removes a contact; false when it was not on the list (not an error: removing is idempotent). */
  async remove(scope: TenantScope, ownerId: string, contactId: string): Promise<boolean> {
    const user = await this.db
      .selectFrom('users')
      .select('id')
      .where('id', '=', contactId)
      .where('tenant_id', '=', scope.tenantId)
      .executeTakeFirst();
    if (!user) throw new ParleyError('not_found', 'no such user');
    const r = await this.db
      .deleteFrom('contacts')
      .where('owner_id', '=', ownerId)
      .where('contact_id', '=', contactId)
      .where('tenant_id', '=', scope.tenantId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async createGroup(
    scope: TenantScope,
    ownerId: string,
    name: string,
    position?: number,
  ): Promise<ContactGroup> {
    const groups = await this.db
      .selectFrom('contact_groups')
      .select(['position'])
      .where('owner_id', '=', ownerId)
      .where('tenant_id', '=', scope.tenantId)
      .execute();
    if (groups.length >= CONTACT_LIMITS.groups)
      throw new ParleyError('limit_exceeded', `at most ${CONTACT_LIMITS.groups} contact groups`);
    const row = {
      id: newId('cgr'),
      tenant_id: scope.tenantId,
      owner_id: ownerId,
      name,
      position: position ?? groups.reduce((m, g) => Math.max(m, g.position + 1), 0),
      created_at: Date.now(),
    };
    await this.db.insertInto('contact_groups').values(row).execute();
    return groupOut(row);
  }

  async updateGroup(
    scope: TenantScope,
    ownerId: string,
    groupId: string,
    patch: { name?: string; position?: number },
  ): Promise<ContactGroup> {
    await this.requireGroup(scope, ownerId, groupId);
    const values: { name?: string; position?: number } = {};
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.position !== undefined) values.position = patch.position;
    if (Object.keys(values).length)
      await this.db.updateTable('contact_groups').set(values).where('id', '=', groupId).execute();
    return groupOut(await this.requireGroup(scope, ownerId, groupId));
  }

  /** Deletes a group; its contacts move to the default group. */
  async deleteGroup(scope: TenantScope, ownerId: string, groupId: string): Promise<void> {
    await this.requireGroup(scope, ownerId, groupId);
    await this.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('contacts')
        .set({ group_id: null })
        .where('owner_id', '=', ownerId)
        .where('group_id', '=', groupId)
        .execute();
      await tx.deleteFrom('contact_groups').where('id', '=', groupId).execute();
    });
  }

  private async requireGroup(scope: TenantScope, ownerId: string, groupId: string) {
    const g = await this.db
      .selectFrom('contact_groups')
      .selectAll()
      .where('id', '=', groupId)
      .where('owner_id', '=', ownerId)
      .where('tenant_id', '=', scope.tenantId)
      .executeTakeFirst();
    if (!g) throw new ParleyError('not_found', 'no such contact group', { field: 'groupId' });
    return g;
  }
}

function groupOut(g: { id: string; name: string; position: number; created_at: number }): ContactGroup {
  return { id: g.id, name: g.name, position: g.position, createdAt: iso(g.created_at) };
}
