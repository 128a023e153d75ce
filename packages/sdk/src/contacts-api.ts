/** Contacts in the SDK: the signed-in user's contact list and groups, over the REST API. */
import type { Contact, ContactGroup, ContactList, PutContactRequest } from '@parley/protocol';
import type { RestClient } from './rest-client.ts';

export class ContactsApi {
  constructor(private readonly rest: Pick<RestClient, 'request'>) {}

  list(): Promise<ContactList> {
    return this.rest.request('GET', '/api/contacts');
  }

  /** Adds a user of your organisation, or changes their group or favourite mark. */
  put(userId: string, change: PutContactRequest = {}): Promise<Contact> {
    return this.rest.request('PUT', `/api/contacts/${encodeURIComponent(userId)}`, change);
  }

  remove(userId: string): Promise<void> {
    return this.rest.request('DELETE', `/api/contacts/${encodeURIComponent(userId)}`);
  }

  createGroup(name: string, position?: number): Promise<ContactGroup> {
    return this.rest.request(
      'POST',
      '/api/contact-groups',
      position === undefined ? { name } : { name, position },
    );
  }

  updateGroup(groupId: string, change: { name?: string; position?: number }): Promise<ContactGroup> {
    return this.rest.request('PATCH', `/api/contact-groups/${encodeURIComponent(groupId)}`, change);
  }

  deleteGroup(groupId: string): Promise<void> {
    return this.rest.request('DELETE', `/api/contact-groups/${encodeURIComponent(groupId)}`);
  }
}
