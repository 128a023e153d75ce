/** Tables of contact lists (see contact-store.ts). */

export interface ContactGroupsTable {
  id: string;
  tenant_id: string;
  owner_id: string;
  name: string;
  position: number;
  created_at: number;
}

export interface ContactsTable {
  owner_id: string;
  contact_id: string;
  tenant_id: string;
  /** Null: the default group. */
  group_id: string | null;
  favourite: number;
  created_at: number;
}

export interface ContactTables {
  contact_groups: ContactGroupsTable;
  contacts: ContactsTable;
}
