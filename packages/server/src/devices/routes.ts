/**
 * SIP device and extension routes. Tenant admins give users devices (the password is in the answer
 * that creates or resets it, and nowhere else) and extensions; every user may read the tenant's
 * extensions, which are directory information like a colleague's address.
 */
import { z } from 'zod';
import {
  CreateSipDeviceRequest,
  ExtensionList,
  Id,
  ResetSipPasswordRequest,
  SetExtensionRequest,
  SipDevice,
  SipDeviceCredentials,
  SipDeviceList,
  SipDeviceParams,
  UpdateSipDeviceRequest,
  UserExtension,
} from '@parley/protocol';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { SipDeviceAdmin } from './device-admin.ts';
import type { ExtensionAdmin } from './extension-admin.ts';
import type { ExtensionStore } from './extension-store.ts';

export interface DeviceRouteDeps {
  devices: SipDeviceAdmin;
  extensions: ExtensionAdmin;
  extensionStore: ExtensionStore;
}

const UserParams = z.strictObject({ userId: Id });

export function deviceRoutes({ devices, extensions, extensionStore }: DeviceRouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/users/:userId/sip-devices',
      tag: 'devices',
      summary: "A user's SIP devices (tenant admin)",
      access: 'admin',
      params: UserParams,
      resources: { userId: 'user' },
      response: SipDeviceList,
      handler: async ({ scope, params }) => ({ items: await devices.list(scope, params.userId) }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/users/:userId/sip-devices',
      tag: 'devices',
      summary:
        'Give a user a SIP device: the answer holds its password (shown this once) and the settings for the phone (tenant admin)',
      access: 'admin',
      params: UserParams,
      resources: { userId: 'user' },
      body: CreateSipDeviceRequest,
      example: { name: 'Desk phone' },
      response: SipDeviceCredentials,
      status: 201,
      handler: ({ scope, params, body, actor }) => devices.create(scope, actor, params.userId, body),
    }),
    defineRoute({
      method: 'PATCH',
      url: '/api/sip-devices/:deviceId',
      tag: 'devices',
      summary: 'Rename a SIP device (tenant admin)',
      access: 'admin',
      params: SipDeviceParams,
      resources: { deviceId: 'sip_device' },
      body: UpdateSipDeviceRequest,
      example: { name: 'Reception phone' },
      response: SipDevice,
      handler: ({ scope, params, body, actor }) => devices.rename(scope, actor, params.deviceId, body.name),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/sip-devices/:deviceId/password',
      tag: 'devices',
      summary:
        "Reset a SIP device's password (chosen, or generated when none is given): shown this once; the phone's registrations end (tenant admin)",
      access: 'admin',
      params: SipDeviceParams,
      resources: { deviceId: 'sip_device' },
      body: ResetSipPasswordRequest,
      example: {},
      response: SipDeviceCredentials,
      handler: ({ scope, params, body, actor }) =>
        devices.resetPassword(scope, actor, params.deviceId, body.password),
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/sip-devices/:deviceId',
      tag: 'devices',
      summary: 'Remove a SIP device: it can no longer register or call (tenant admin)',
      access: 'admin',
      params: SipDeviceParams,
      resources: { deviceId: 'sip_device' },
      response: z.void(),
      status: 204,
      handler: ({ scope, params, actor }) => devices.remove(scope, actor, params.deviceId),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/extensions',
      tag: 'devices',
      summary: "The tenant's extensions (short numbers), in number order",
      access: 'user',
      response: ExtensionList,
      handler: async ({ scope }) => ({ items: await extensionStore.list(scope) }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/users/:userId/extension',
      tag: 'devices',
      summary: "A user's extension (null: none)",
      access: 'user',
      params: UserParams,
      resources: { userId: 'user' },
      response: UserExtension,
      handler: ({ scope, params }) => extensions.get(scope, params.userId),
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/users/:userId/extension',
      tag: 'devices',
      summary: "Set a user's extension, unique in the tenant (tenant admin)",
      access: 'admin',
      params: UserParams,
      resources: { userId: 'user' },
      body: SetExtensionRequest,
      example: { extension: '2001' },
      response: UserExtension,
      handler: ({ scope, params, body, actor }) =>
        extensions.set(scope, actor, params.userId, body.extension),
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/users/:userId/extension',
      tag: 'devices',
      summary: "Take away a user's extension (tenant admin)",
      access: 'admin',
      params: UserParams,
      resources: { userId: 'user' },
      response: z.void(),
      status: 204,
      handler: ({ scope, params, actor }) => extensions.clear(scope, actor, params.userId),
    }),
  ];
}
