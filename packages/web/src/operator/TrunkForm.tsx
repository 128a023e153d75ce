/**
 * Operator: the SIP side of one billing carrier, beside its cost decks on the Carriers screen: where its
 * calls go (addresses, transport), which source addresses are the carrier's (authentication by IP),
 * codecs in order, how our caller ID is written, a channel limit, and whose carrier it is (the
 * operator's for every tenant, or one tenant's own). Saving sets the whole trunk; removing it leaves
 * billing's carrier and decks in place.
 *
 * Addresses and the codec list are checked here first, so a typo is shown on its field in words rather
 * than as the server's generic refusal.
 */
import { useState } from 'react';
import type { Tenant } from '@parley/protocol';
import type { CallerIdFormat, Trunk, TrunkCodec, TrunkTransport } from '@parley/sdk';
import { Banner, Button, SelectField, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';

const CODECS: readonly TrunkCodec[] = ['PCMA', 'PCMU', 'G722'];

const callerIdLabels: Record<CallerIdFormat, string> = {
  e164: 'International with + (+442079460000)',
  e164_no_plus: 'International without + (442079460000)',
  national: 'National (020 7946 0000)',
};

/** `host:port, host` as addresses (SIP's 5060 when no port); null when one is not `HOST[:PORT]`. */
export function parseAddresses(text: string): Array<{ host: string; port: number }> | null {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) return null;
  const out: Array<{ host: string; port: number }> = [];
  for (const p of parts) {
    const m = /^(?:\[([^\]]+)\]|([^:\s[\]]+))(?::(\d{1,5}))?$/.exec(p);
    const port = m?.[3] === undefined ? 5060 : Number(m[3]);
    if (!m || port < 1 || port > 65535) return null;
    out.push({ host: (m[1] ?? m[2])!, port });
  }
  return out;
}

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function TrunkForm({
  carrier,
  trunk,
  tenants,
  onSaved,
}: {
  carrier: { id: string; name: string };
  trunk: Trunk | undefined;
  tenants: Tenant[];
  onSaved: () => void;
}) {
  const client = useClient();
  const save = useAction();
  const [addresses, setAddresses] = useState(
    trunk?.addresses.map((a) => `${a.host}:${a.port}`).join(', ') ?? '',
  );
  const [transport, setTransport] = useState<TrunkTransport>(trunk?.transport ?? 'udp');
  const [allow, setAllow] = useState(trunk?.allow.join(', ') ?? '');
  const [codecs, setCodecs] = useState((trunk?.codecs ?? ['PCMA', 'PCMU']).join(', '));
  const [callerId, setCallerId] = useState<CallerIdFormat>(trunk?.callerIdFormat ?? 'e164');
  const [channels, setChannels] = useState(
    trunk?.channelLimit === null || !trunk ? '' : String(trunk.channelLimit),
  );
  const [tenantId, setTenantId] = useState(trunk?.tenantId ?? '');
  const [enabled, setEnabled] = useState(trunk?.enabled ?? true);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const label = (what: string) => `${what} (${carrier.name})`;

  const submit = () => {
    const problems: Record<string, string> = {};
    const parsed = parseAddresses(addresses);
    if (!parsed)
      problems.addresses = 'Enter HOST:PORT, several separated by commas (such as 203.0.113.10:5060).';
    const codecList = list(codecs).map((c) => c.toUpperCase());
    if (codecList.length === 0 || codecList.some((c) => !CODECS.includes(c as TrunkCodec)))
      problems.codecs = `Choose from ${CODECS.join(', ')}, in the order to offer them.`;
    const limit = channels.trim() === '' ? null : Number(channels);
    if (limit !== null && !(Number.isInteger(limit) && limit >= 1))
      problems.channels = 'A whole number of calls, or empty for no limit.';
    setErrors(problems);
    if (Object.keys(problems).length > 0) return;
    // Without an allow-list the carrier's calls could not be recognised: its own hosts by default.
    const allowList = list(allow).length ? list(allow) : [...new Set(parsed!.map((a) => a.host))];
    void save
      .run(() =>
        client.telephony.putTrunk(carrier.id, {
          tenantId: tenantId || null,
          addresses: parsed!,
          transport,
          allow: allowList,
          codecs: codecList as TrunkCodec[],
          callerIdFormat: callerId,
          channelLimit: limit,
          enabled,
        }),
      )
      .then((ok) => ok && onSaved());
  };

  return (
    <div className="trunk">
      <h3>SIP trunk</h3>
      <p className="muted small" role="status">
        {trunk
          ? `${trunk.enabled ? 'Takes calls' : 'Disabled'}: ${trunk.transport.toUpperCase()} to ${trunk.addresses
              .map((a) => `${a.host}:${a.port}`)
              .join(', ')}; calls from ${trunk.allow.join(', ') || 'nowhere'} are this carrier's.`
          : 'Not connected to the phone network yet: give it its SIP addresses.'}
      </p>
      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <TextField
          label={label('SIP addresses')}
          hint="Where calls go, in order: HOST:PORT, separated by commas."
          value={addresses}
          error={errors.addresses}
          onChange={(e) => setAddresses(e.target.value)}
        />
        <SelectField
          label={label('Transport')}
          value={transport}
          onChange={(e) => setTransport(e.target.value as TrunkTransport)}
          options={[
            { value: 'udp', label: 'UDP' },
            { value: 'tcp', label: 'TCP' },
            { value: 'tls', label: 'TLS' },
          ]}
        />
        <TextField
          label={label('Allowed source addresses')}
          hint="The carrier's IPs, separated by commas (empty: the hosts above)."
          value={allow}
          onChange={(e) => setAllow(e.target.value)}
        />
        <TextField
          label={label('Codecs in order')}
          hint={`Of ${CODECS.join(', ')}.`}
          value={codecs}
          error={errors.codecs}
          onChange={(e) => setCodecs(e.target.value)}
        />
        <SelectField
          label={label('Caller ID format')}
          value={callerId}
          onChange={(e) => setCallerId(e.target.value as CallerIdFormat)}
          options={(Object.keys(callerIdLabels) as CallerIdFormat[]).map((v) => ({
            value: v,
            label: callerIdLabels[v],
          }))}
        />
        <TextField
          label={label('Channel limit')}
          hint="Calls at once; empty for no limit."
          inputMode="numeric"
          value={channels}
          error={errors.channels}
          onChange={(e) => setChannels(e.target.value)}
        />
        <SelectField
          label={label('Serves')}
          value={tenantId}
          onChange={(e) => setTenantId(e.target.value)}
          options={[
            { value: '', label: 'Every tenant (the operator’s carrier)' },
            ...tenants.map((t) => ({ value: t.id, label: `${t.name} only (their own carrier)` })),
          ]}
        />
        <label className="check">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
          {label('Enabled')}
        </label>
        {save.error && <Banner tone="error">{save.error}</Banner>}
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.busy}>
            {trunk ? 'Save SIP trunk' : 'Connect SIP trunk'}
          </Button>
          {trunk && (
            <Button
              busy={save.busy}
              onClick={() =>
                void save.run(() => client.telephony.removeTrunk(carrier.id)).then((ok) => ok && onSaved())
              }
            >
              Remove SIP trunk
            </Button>
          )}
        </div>
      </form>
    </div>
  );
}
