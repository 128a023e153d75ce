/**
 * Contact routes: the signed-in user's own contact list. Each change also appends a durable
 * `contacts.changed` event for the owner, so their other devices refresh (live, or on resume).
 */
import { z } from 'zod';
import {
  Contact,
  ContactGroup,
  ContactList,
  CreateContactGroupRequest,
  Id,
  ParleyError,
  PutContactRequest,
  UpdateContactGroupRequest,
} from '@parley/protocol';
import { defineRoute, type AnyRoute, type RouteContext } from '../http/route.ts';
import type { ContactStore } from './contact-store.ts';
import type { EventLog } from '../realtime/event-log.ts';

export interface ContactRouteDeps {
  contacts: ContactStore;
  events: Pick<EventLog, 'append'>;
}

const UserParams = z.strictObject({ userId: Id });
const GroupParams = z.strictObject({ groupId: Id });

/** Contact lists belong to users: an API key has none. */
function owner(ctx: Pick<RouteContext<unknown, unknown, unknown>, 'principal'>): string {
  if (ctx.principal?.kind !== 'user')
    throw new ParleyError('forbidden', 'contact lists belong to signed-in users');
  return ctx.principal.id;
}

export function contactRoutes({ contacts, events }: ContactRouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/contacts',
      tag: 'contacts',
      summary: "The signed-in user's contacts and contact groups",
      access: 'user',
      response: ContactList,
      handler: (ctx) => contacts.list(ctx.scope, owner(ctx)),
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/contacts/:userId',
      tag: 'contacts',
      summary: 'Add a user of the tenant to the contact list, or change their group or favourite mark',
      access: 'user',
      params: UserParams,
      resources: { userId: 'user' },
      body: PutContactRequest,
      example: { favourite: true },
      response: Contact,
      handler: async (ctx) => {
        const me = owner(ctx);
        const { contact, added } = await contacts.put(ctx.scope, me, ctx.params.userId, ctx.body);
        await events.append(ctx.scope, me, 'contacts.changed', {
          change: added ? 'added' : 'updated',
          userId: contact.userId,
        });
        return contact;
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/contacts/:userId',
      tag: 'contacts',
      summary: 'Remove a user from the contact list',
      access: 'user',
      params: UserParams,
      resources: { userId: 'user' },
      response: z.void(),
      status: 204,
      handler: async (ctx) => {
        const me = owner(ctx);
        if (await contacts.remove(ctx.scope, me, ctx.params.userId)) {
          await events.append(ctx.scope, me, 'contacts.changed', {
            change: 'removed',
            userId: ctx.params.userId,
          });
        }
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/contact-groups',
      tag: 'contacts',
      summary: 'Create a contact group',
      access: 'user',
      body: CreateContactGroupRequest,
      example: { name: 'Project Falcon' },
      response: ContactGroup,
      status: 201,
      handler: async (ctx) => {
        const me = owner(ctx);
        const g = await contacts.createGroup(ctx.scope, me, ctx.body.name, ctx.body.position);
        await events.append(ctx.scope, me, 'contacts.changed', { change: 'groups', groupId: g.id });
        return g;
      },
    }),
    defineRoute({
      method: 'PATCH',
      url: '/api/contact-groups/:groupId',
      tag: 'contacts',
      summary: 'Rename or move a contact group',
      access: 'user',
      params: GroupParams,
      resources: { groupId: 'contact_group' },
      body: UpdateContactGroupRequest,
      example: { name: 'Falcon team' },
      response: ContactGroup,
      handler: async (ctx) => {
        const me = owner(ctx);
        const g = await contacts.updateGroup(ctx.scope, me, ctx.params.groupId, ctx.body);
        await events.append(ctx.scope, me, 'contacts.changed', { change: 'groups', groupId: g.id });
        return g;
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/contact-groups/:groupId',
      tag: 'contacts',
      summary: 'Delete a contact group (its contacts move to the default group)',
      access: 'user',
      params: GroupParams,
      resources: { groupId: 'contact_group' },
      response: z.void(),
      status: 204,
      handler: async (ctx) => {
        const me = owner(ctx);
        await contacts.deleteGroup(ctx.scope, me, ctx.params.groupId);
        await events.append(ctx.scope, me, 'contacts.changed', {
          change: 'groups',
          groupId: ctx.params.groupId,
        });
      },
    }),
  ];
}
