/**
 * The SIP devices module, built once by the composition root: the stores, the admin operations, the
 * routes, and what the SIP edge uses: the digest credentials of every device (`credentials`, replacing
 * the empty in-memory default) and the `SipDeviceDirectory` lookup of the registrar and phone calls.
 */
import type { Directory } from '../directory/directory.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Bus } from '../bus/bus.ts';
import type { StorageHandle } from '../storage/db.ts';
import type { AnyRoute } from '../http/route.ts';
import type { SipCredentials } from '../sip/peers.ts';
import { SipDeviceStore } from './device-store.ts';
import { ExtensionStore } from './extension-store.ts';
import { SipDeviceAdmin } from './device-admin.ts';
import { ExtensionAdmin } from './extension-admin.ts';
import { deviceRoutes } from './routes.ts';
import type { SipEdgeAddress } from './provisioning.ts';
import type { SipDeviceDirectory, SipDeviceRevokedEvent } from './sip-device-directory.ts';

export interface DevicesDeps {
  storage: StorageHandle;
  directory: Pick<Directory, 'getUser'>;
  audit: AuditLog;
  bus: Pick<Bus, 'publish'>;
  edge(): SipEdgeAddress;
  maxPerUser: number;
  /** See SipDeviceAdminDeps.revoke. */
  revoke?(e: SipDeviceRevokedEvent): Promise<void>;
}

export interface Devices {
  store: SipDeviceStore;
  extensions: ExtensionStore;
  admin: SipDeviceAdmin;
  extensionAdmin: ExtensionAdmin;
  /** Device and extension lookups for the SIP edge. */
  lookup: SipDeviceDirectory;
  /** Digest secrets (HA1s) of every device, by user name and realm. */
  credentials: SipCredentials;
  routes: AnyRoute[];
}

export function createDevices(deps: DevicesDeps): Devices {
  const store = new SipDeviceStore(deps.storage.db);
  const extensions = new ExtensionStore(deps.storage.db);
  const admin = new SipDeviceAdmin({
    devices: store,
    directory: deps.directory,
    audit: deps.audit,
    write: deps.storage.write,
    bus: deps.bus,
    edge: deps.edge,
    maxPerUser: deps.maxPerUser,
    revoke: deps.revoke,
  });
  const extensionAdmin = new ExtensionAdmin({
    extensions,
    directory: deps.directory,
    audit: deps.audit,
    write: deps.storage.write,
  });
  return {
    store,
    extensions,
    admin,
    extensionAdmin,
    lookup: {
      deviceByUsername: (domain, username) => store.deviceByUsername(domain, username),
      userByExtension: (tenantId, extension) => extensions.userByExtension(tenantId, extension),
    },
    credentials: { secret: store.secret },
    routes: deviceRoutes({ devices: admin, extensions: extensionAdmin, extensionStore: extensions }),
  };
}
