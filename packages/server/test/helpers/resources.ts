/**
 * How to make one tenant-owned resource of each kind that routes name in their paths (the route table's
 * `resources`), for the generated tenant-wall tests. A route naming a kind missing here fails those
 * tests: add its factory when you add the route.
 */
import { Readable } from 'node:stream';
import { PNG } from 'pngjs';
import type { TestServer, TenantFixture } from './server.ts';
import { makeUser } from './server.ts';
import { trustedScope } from '../../src/directory/scope.ts';

export type ResourceFactory = (s: TestServer, tenant: TenantFixture) => Promise<string>;

let n = 0;
/** The conversation made last per tenant: a `message` id in the same path belongs to it. */
const lastConversation = new Map<string, string>();

export const resourceFactories: Record<string, ResourceFactory> = {
  // A number of a fresh carrier, given to the tenant.
  phone_number: async (s, t) => {
    const carrier = await s.app.billing.decks.createCarrier(`wall carrier ${++n}`);
    const number = `+4420794${String(100000 + n).slice(-5)}`;
    await s.app.telephony.addNumber({ number, carrierId: carrier.id, tenantId: t.id, userId: null });
    return number;
  },
  user: async (s, t) => (await makeUser(s, t.id, `wall${++n}@${t.domain}`)).id,
  // A site (a named civic address) of the tenant, nobody at it.
  emergency_site: async (s, t) =>
    (
      await s.app.emergency.createSite(trustedScope(t.id), `wall site ${++n}`, {
        country: 'GB',
        city: 'London',
      })
    ).id,
  api_key: async (s, t) => (await s.app.auth.createApiKey(t.id, `wall key ${++n}`, 'user', null)).id,
  // Owned by the tenant's plain user (contact groups are per user; the wall tests act as that user).
  contact_group: async (s, t) =>
    (await s.app.contacts.createGroup(trustedScope(t.id), t.user.id, `wall group ${++n}`)).id,
  // A group of the tenant's user (its owner) and admin.
  conversation: async (s, t) => {
    const { conversation } = await s.app.chat.service.createConversation(trustedScope(t.id), t.user.id, {
      members: [t.admin.id],
      title: `wall chat ${++n}`,
    });
    lastConversation.set(t.id, conversation.id);
    return conversation.id;
  },
  // A small image (so it has a thumbnail too), uploaded by the tenant's user to a new group of theirs.
  file: async (s, t) => {
    const { conversation } = await s.app.chat.service.createConversation(trustedScope(t.id), t.user.id, {
      members: [t.admin.id],
      title: `wall files ${++n}`,
    });
    const info = await s.app.chat.files.upload(
      trustedScope(t.id),
      t.user.id,
      conversation.id,
      'wall.png',
      Readable.from([
        PNG.sync.write(Object.assign(new PNG({ width: 2, height: 2 }), { data: Buffer.alloc(16, 255) })),
      ]),
      undefined,
    );
    return info.id;
  },
  // Sent by the tenant's user into the conversation the same path names (made just before).
  message: async (s, t) => {
    const id = lastConversation.get(t.id);
    if (!id) throw new Error('a message factory needs a conversation factory before it in the path');
    const r = await s.app.chat.timeline.send(trustedScope(t.id), t.user.id, id, {
      text: `wall message ${++n}`,
      clientMessageId: `wall-${n}`,
    });
    return r.message.id;
  },
  // A desk phone of a new user of the tenant.
  sip_device: async (s, t) => {
    const user = await makeUser(s, t.id, `wallphone${++n}@${t.domain}`);
    const { device } = await s.app.devices.admin.create(
      trustedScope(t.id),
      { id: null, address: 'wall', sourceAddress: null },
      user.id,
      { name: `wall phone ${n}` },
    );
    return device.id;
  },
  top_up_request: async (s, t) =>
    (
      await s.app.billing.topUpRequests.request(trustedScope(t.id), 1_000_000, `wall ${++n}`, {
        id: t.admin.id,
        address: t.admin.address,
        sourceAddress: null,
      })
    ).id,
};
