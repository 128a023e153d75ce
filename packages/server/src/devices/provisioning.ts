/**
 * What a person types (or pastes) into a phone: the settings of a device and configuration text for
 * common phones, made once, in the answer that shows the password.
 *
 * - baresip (Debian's softphone, also what the end-to-end tests drive): one line of `~/.baresip/accounts`
 *   per transport, the outbound proxy set so the phone reaches Parley whatever DNS says of the domain.
 * - Yealink T4x/T5x desk phones: an auto-provisioning `.cfg` (the `account.1.*` keys of firmware 8x and
 *   later), loaded from a provisioning server or pasted in the phone's web page under Settings >
 *   Configuration > Import.
 */
import type { ProvisioningText, SipDeviceSettings } from '@parley/protocol';

/** Where phones reach Parley's SIP edge. `tlsPort` null: SIP over TLS is off. */
export interface SipEdgeAddress {
  address: string;
  port: number;
  tlsPort: number | null;
}

/** A display name safe inside a quoted string of either format. */
const quotable = (s: string) => s.replace(/["\\]/g, '');

/** How often a provisioned phone registers again, seconds (RFC 3261 section 10.2.1's default is 3600). */
export const PROVISIONED_REGISTER_INTERVAL = 600;

export function provisioningTexts(s: SipDeviceSettings, displayName: string): ProvisioningText[] {
  const name = quotable(displayName);
  const line = (transport: 'udp' | 'tls', port: number) =>
    `"${name}" <sip:${s.username}@${s.domain};transport=${transport}>;auth_user=${s.username};` +
    `auth_pass=${s.password};outbound="sip:${s.proxyAddress}:${port};transport=${transport}";` +
    `regint=${PROVISIONED_REGISTER_INTERVAL}`;
  const baresip = [line('udp', s.port)];
  if (s.tlsPort !== null) baresip.push(line('tls', s.tlsPort));
  // Yealink transport_type: 0 UDP, 1 TCP, 2 TLS.
  const tls = s.tlsPort !== null;
  const yealink = [
    '#!version:1.0.0.1',
    'account.1.enable = 1',
    `account.1.label = ${name}`,
    `account.1.display_name = ${name}`,
    `account.1.auth_name = ${s.username}`,
    `account.1.user_name = ${s.username}`,
    `account.1.password = ${s.password}`,
    `account.1.sip_server.1.address = ${s.domain}`,
    `account.1.sip_server.1.port = ${tls ? s.tlsPort : s.port}`,
    `account.1.sip_server.1.transport_type = ${tls ? 2 : 0}`,
    `account.1.sip_server.1.expires = ${PROVISIONED_REGISTER_INTERVAL}`,
    'account.1.outbound_proxy_enable = 1',
    `account.1.outbound_proxy.1.address = ${s.proxyAddress}`,
    `account.1.outbound_proxy.1.port = ${tls ? s.tlsPort : s.port}`,
  ];
  return [
    {
      kind: 'baresip',
      title: `baresip: ${baresip.length > 1 ? 'lines' : 'a line'} of ~/.baresip/accounts (${baresip.length > 1 ? 'UDP, then TLS: keep one' : 'UDP'})`,
      text: `${baresip.join('\n')}\n`,
    },
    {
      kind: 'yealink',
      title: `Yealink T4x/T5x: auto-provisioning file (.cfg), over ${tls ? 'TLS' : 'UDP'}`,
      text: `${yealink.join('\n')}\n`,
    },
  ];
}

/**
 * Where phones reach the SIP edge: the advertised address (PARLEY_SIP_ADDRESS) and the ports the
 * listener holds once it listens, else the configured ones (the CLI, which starts no listener).
 */
export function sipEdgeAddress(
  config: { sipAddress: string; sipPort: number; sipTlsPort: number },
  listening?: { udpPort: number; tlsPort: number | undefined },
): SipEdgeAddress {
  return {
    address: config.sipAddress,
    port: listening?.udpPort ?? config.sipPort,
    tlsPort: config.sipTlsPort < 0 ? null : (listening?.tlsPort ?? config.sipTlsPort),
  };
}
