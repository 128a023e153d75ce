/**
 * A Parley for the phone tests: the web harness's server (demo tenant Contoso on contoso.example,
 * SQLite in a temporary folder) with SIP on UDP/TCP and TLS on free ports of 127.0.0.1, a certificate
 * made for 127.0.0.1 that the phones are given as their CA, and digest challenges in MD5 alone
 * (`PARLEY_SIP_DIGEST_ALGORITHMS`: baresip 1.0 gives up on any SHA-256 challenge). A SIP device is
 * added as a tenant admin would (`addDevice`: Alice, Contoso's admin, over HTTP; the password shown
 * once), and a phone (`phone`) is a baresip configured with nothing but the baresip line of that
 * answer's provisioning text, for UDP or TLS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { SipDeviceCredentials } from '../../packages/protocol/src/devices.ts';
import { sipTlsIdentity } from '../../packages/server/src/sip/tls-identity.ts';
import { apiSession, demo, startWebServer, type Overrides, type WebServer } from '../web/harness.ts';
import { Baresip, type PhoneAccount, type Transport } from './baresip.ts';
import { speechWav, toneWav } from './audio.ts';

export const DOMAIN = 'contoso.example';

export interface DeviceCredentials {
  username: string;
  password: string;
  domain: string;
  deviceId: string;
  userId: string;
  tenantId: string;
  /** The provisioning text's baresip account line for each transport it offers. */
  lines: Partial<Record<Transport, string>>;
}

export interface PhoneOptions {
  /** The device (from `addDevice`); `password` replaces its password, to test a wrong one. */
  device: DeviceCredentials;
  /** UDP (default) or TLS: the provisioning text has a line for each. */
  transport?: 'udp' | 'tls';
  answer?: PhoneAccount['answer'];
  /** The codecs it offers and accepts (baresip names); default PCMU and PCMA. */
  codecs?: PhoneAccount['codecs'];
  /** What it sends: `speech` (default) or `tone` (a 600 Hz sine). */
  sound?: 'speech' | 'tone';
  password?: string;
}

export interface PhoneServer {
  web: WebServer;
  /** The tenant's SIP domain (the demo tenant's). */
  domain: string;
  /** The CA file phones trust for TLS (the server's own certificate). */
  caFile: string;
  speech: string;
  tone: string;
  /** Gives the demo user at `address` a SIP device named `username` (as Alice, the tenant admin). */
  addDevice(address: string, username: string): Promise<DeviceCredentials>;
  /** Starts a baresip for `device`, registering through Parley (it does not wait for the answer). */
  phone(name: string, o: PhoneOptions): Promise<Baresip>;
  /** The SIP port of a transport. */
  port(transport: Transport): number;
  close(): Promise<void>;
}

export const TONE_HZ = 600;

export async function startPhoneServer(overrides: Overrides = {}): Promise<PhoneServer> {
  const folder = mkdtempSync(join(tmpdir(), 'parley-phones-'));
  const tls = await sipTlsIdentity({ dataDir: folder, names: ['127.0.0.1'] }, pino({ level: 'silent' }));
  const web = await startWebServer({
    sipTlsPort: 0,
    sipTlsCert: tls.certPath,
    sipTlsKey: join(folder, 'sip-tls', 'self-signed-key.pem'),
    sipDigestAlgorithms: 'MD5',
    ...overrides,
  });
  const admin = await apiSession(web, demo.alice);
  const speech = await speechWav(folder, 'Hello, this is the desk phone speaking. One two three four five.');
  const tone = await toneWav(folder, TONE_HZ);
  const phones: Baresip[] = [];
  const server: PhoneServer = {
    web,
    domain: DOMAIN,
    caFile: tls.certPath,
    speech,
    tone,
    async addDevice(address, username) {
      const answer = await admin.call<SipDeviceCredentials>(
        'POST',
        `/api/users/${await admin.idOf(address)}/sip-devices`,
        { name: `${username} desk phone`, username },
      );
      const text = answer.provisioning.find((p) => p.kind === 'baresip')!.text;
      const lines: DeviceCredentials['lines'] = {};
      for (const l of text.split('\n').filter(Boolean))
        lines[/;transport=(\w+)>/.exec(l)![1] as Transport] = l;
      return {
        username: answer.settings.username,
        password: answer.settings.password,
        domain: answer.settings.domain,
        deviceId: answer.device.id,
        userId: answer.device.userId,
        tenantId: answer.device.tenantId,
        lines,
      };
    },
    port(transport) {
      const sip = web.app.sip!;
      return transport === 'tls' ? sip.tlsPort! : transport === 'tcp' ? sip.tcpPort : sip.udpPort;
    },
    async phone(name, o) {
      const transport = o.transport ?? 'udp';
      let line = o.device.lines[transport];
      if (!line) throw new Error(`the provisioning text has no ${transport} line`);
      if (o.password !== undefined) line = line.replace(/;auth_pass=[^;]*/, `;auth_pass=${o.password}`);
      const p = await Baresip.start({
        name,
        wav: o.sound === 'tone' ? tone : speech,
        caFile: tls.certPath,
        account: {
          provisioned: line,
          user: o.device.username,
          answer: o.answer ?? 'manual',
          ...(o.codecs ? { codecs: o.codecs } : {}),
        },
      });
      phones.push(p);
      return p;
    },
    async close() {
      for (const p of phones) await p.stop();
      await web.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
  return server;
}
