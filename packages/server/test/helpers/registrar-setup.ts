/**
 * A server with a registrar and two in-memory SIP devices of one tenant (`desk`, the user's, and
 * `other`, the admin's), and phones to register them, for the registrar tests.
 */
import type { FakeClock } from '@parley/sip';
import { makeTenant, startServer, type Overrides, type TenantFixture, type TestServer } from './server.ts';
import { TestPhone } from './sip-phone.ts';
import { InMemorySipDevices } from '../../src/sip/in-memory-devices.ts';
import { InMemoryCarriers } from '../../src/sip/peers.ts';
import type { Engine } from '../../src/storage/db.ts';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';

export const DESK_PASSWORD = 'desk-secret';

export interface Setup {
  s: TestServer;
  t: TenantFixture;
  devices: InMemorySipDevices;
  phone(opts?: { protocol?: 'UDP' | 'TCP' | 'TLS'; address?: string; username?: string }): Promise<TestPhone>;
  /** Stops the server and starts another on the same storage and SIP ports (`s.app` is the new one). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function registrarSetup(
  overrides: Overrides = {},
  time?: { clock: FakeClock; now(): number },
  engine: Engine = 'sqlite',
): Promise<Setup> {
  const devices = new InMemorySipDevices();
  const options = {
    sipPeers: { carriers: new InMemoryCarriers(), credentials: devices, devices },
    registrationTime: time,
  };
  const s = await startServer(engine, { sipKeepAliveMs: 0, ...overrides }, options);
  const first = s.app;
  const t = await makeTenant(s, 'reg');
  devices.add({
    username: 'desk',
    domain: t.domain,
    password: DESK_PASSWORD,
    deviceId: 'dev-desk',
    tenantId: t.id,
    userId: t.user.id,
    name: 'Desk phone',
  });
  devices.add({
    username: 'other',
    domain: t.domain,
    password: 'other-secret',
    deviceId: 'dev-other',
    tenantId: t.id,
    userId: t.admin.id,
    name: 'Admin phone',
  });
  const phones: TestPhone[] = [];
  return {
    s,
    t,
    devices,
    async phone(o = {}) {
      const username = o.username ?? 'desk';
      const p = await TestPhone.open({
        protocol: o.protocol,
        address: o.address ?? '127.0.0.3',
        serverPort:
          o.protocol === 'TLS'
            ? s.app.sip!.tlsPort!
            : o.protocol === 'TCP'
              ? s.app.sip!.tcpPort
              : s.app.sip!.udpPort,
        username,
        domain: t.domain,
        password: username === 'desk' ? DESK_PASSWORD : 'other-secret',
      });
      phones.push(p);
      return p;
    },
    async restart() {
      const old = s.app;
      await old.close();
      const config = loadConfig(
        {},
        {
          port: 0,
          sipPort: old.sip!.udpPort,
          sipTlsPort: old.sip!.tlsPort,
          host: '127.0.0.1',
          dataDir: s.dataDir,
          logLevel: 'silent',
          databaseUrl: s.databaseUrl,
          sipKeepAliveMs: 0,
          ...overrides,
        },
      );
      s.app = await createApp(config, options);
      await s.app.listen();
    },
    async close() {
      for (const p of phones) await p.close();
      if (s.app !== first) await s.app.close();
      await s.close();
    },
  };
}
