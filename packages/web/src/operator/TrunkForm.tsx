/**
 * Operator: the SIP side of one billing carrier, beside its cost decks on the Carriers screen: where its
 * calls go (addresses, transport), which source addresses are the carrier's (authentication by IP),
 * codecs in order, how our caller ID is written, a channel limit, and whose carrier it is (the
 * operator's for every tenant, or one tenant's own), how it knows us (by source address, or an account
 * Parley registers with: registrar, user name, password, auth user name, domain), which header carries
 * our caller's identity (P-Asserted-Identity, Remote-Party-ID or none), and whether OPTIONS pings check
 * its addresses. Saving sets the whole trunk; removing it leaves billing's carrier and decks in place.
 * The registration password is write-only: never shown, and left empty it keeps the stored one.
 *
 * Addresses and the codec list are checked here first, so a typo is shown on its field in words rather
 * than as the server's generic refusal.
 */
import { useState } from 'react';
import type { Tenant } from '@parley/protocol';
import type {
  CallerIdFormat,
  CarrierStatus,
  Trunk,
  TrunkAuth,
  TrunkCodec,
  TrunkIdentity,
  TrunkTransport,
} from '@parley/sdk';
import { Banner, Button, SelectField, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';

const CODECS: readonly TrunkCodec[] = ['PCMA', 'PCMU', 'G722'];

const callerIdLabels: Record<CallerIdFormat, string> = {
  e164: 'International with + (+442079460000)',
  e164_no_plus: 'International without + (442079460000)',
  national: 'National (020 7946 0000)',
};

const identityLabels: Record<TrunkIdentity, string> = {
  pai: 'P-Asserted-Identity',
  rpid: 'Remote-Party-ID',
  none: 'None (From only)',
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

const at = (ms: number) => new Date(ms).toLocaleTimeString(undefined, { timeStyle: 'short' });

const registrationWords: Record<CarrierStatus['registration']['state'], string> = {
  off: 'Not registering',
  registering: 'Registering…',
  registered: 'Registered',
  failed: 'Registration failed',
};

/** The running server's view of a trunk: each address up, down or unknown, and the registration. */
export function TrunkHealth({
  name,
  trunk,
  status,
}: {
  name: string;
  trunk: Trunk;
  status: CarrierStatus | undefined;
}) {
  const r = status?.registration;
  return (
    <div className="trunk-health">
      <h4>Status</h4>
      <ul aria-label={`Addresses of ${name}`}>
        {(
          status?.addresses ??
          trunk.addresses.map((a) => ({ ...a, state: 'unknown' as const, lastError: null }))
        ).map((a) => (
          <li key={`${a.host}:${a.port}`} className={`health-${a.state}`}>
            <span className="number">
              {a.host}:{a.port}
            </span>
            {': '}
            {a.state === 'up'
              ? 'Up'
              : a.state === 'down'
                ? `Down${a.lastError ? ` (${a.lastError})` : ''}`
                : trunk.healthCheck
                  ? 'Unknown (not checked yet)'
                  : 'Unknown (health check off)'}
          </li>
        ))}
      </ul>
      {trunk.auth === 'register' && r && (
        <p
          className={`registration-state health-${r.state === 'registered' ? 'up' : r.state === 'failed' ? 'down' : 'unknown'}`}
        >
          {registrationWords[r.state]}
          {r.state === 'registered' && r.expiresAt !== null && `, until ${at(r.expiresAt)}`}
          {r.lastError && `: ${r.lastError}`}
          {r.state === 'failed' && r.nextAttemptAt !== null && `; next attempt at ${at(r.nextAttemptAt)}`}
        </p>
      )}
    </div>
  );
}

export function TrunkForm({
  carrier,
  trunk,
  status,
  tenants,
  onSaved,
}: {
  carrier: { id: string; name: string };
  trunk: Trunk | undefined;
  /** The running server's health and registration of the trunk (`GET .../carriers/status`). */
  status?: CarrierStatus;
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
  const reg = trunk?.registration ?? null;
  const [auth, setAuth] = useState<TrunkAuth>(trunk?.auth ?? 'ip');
  const [registrar, setRegistrar] = useState(reg ? `${reg.registrar.host}:${reg.registrar.port}` : '');
  const [username, setUsername] = useState(reg?.username ?? '');
  const [password, setPassword] = useState('');
  const [authUsername, setAuthUsername] = useState(reg?.authUsername ?? '');
  const [domain, setDomain] = useState(reg?.domain ?? '');
  const [identity, setIdentity] = useState<TrunkIdentity>(trunk?.identity ?? 'pai');
  const [healthCheck, setHealthCheck] = useState(trunk?.healthCheck ?? true);
  const [preference, setPreference] = useState(String(trunk?.preference ?? 0));
  const [emergency, setEmergency] = useState(trunk?.emergency ?? false);
  const [pidfLo, setPidfLo] = useState(trunk?.pidfLo ?? false);
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
    const pref = preference.trim() === '' ? 0 : Number(preference);
    if (!(Number.isInteger(pref) && pref >= -1000 && pref <= 1000))
      problems.preference = 'A whole number from -1000 to 1000 (lower is tried first).';
    // The registrar defaults to the first address, as `parley carrier add --auth register` does.
    const registrarAt = registrar.trim() === '' ? parsed?.slice(0, 1) : parseAddresses(registrar);
    if (auth === 'register') {
      if (!registrarAt || registrarAt.length !== 1)
        problems.registrar = 'One HOST:PORT, or empty for the first SIP address.';
      if (username.trim() === '') problems.username = 'The account’s user name, as the carrier gave it.';
      if (password === '' && !reg) problems.password = 'The account’s password.';
    }
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
          auth,
          registration:
            auth === 'register'
              ? {
                  registrar: registrarAt![0]!,
                  username: username.trim(),
                  // Empty: the server keeps the stored password.
                  ...(password === '' ? {} : { password }),
                  authUsername: authUsername.trim() || null,
                  domain: domain.trim() || null,
                  expires: reg?.expires ?? 3600,
                }
              : null,
          identity,
          healthCheck,
          preference: pref,
          emergency,
          pidfLo,
        }),
      )
      .then((ok) => {
        if (!ok) return;
        setPassword('');
        onSaved();
      });
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
      {trunk && <TrunkHealth name={carrier.name} trunk={trunk} status={status} />}
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
        <TextField
          label={label('Routing preference')}
          hint="Between carriers that cost the same for a number, the lower is tried first (0 by default)."
          inputMode="numeric"
          value={preference}
          error={errors.preference}
          onChange={(e) => setPreference(e.target.value)}
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
        <SelectField
          label={label('Authentication')}
          value={auth}
          onChange={(e) => setAuth(e.target.value as TrunkAuth)}
          options={[
            { value: 'ip', label: 'By source address (allow-list)' },
            { value: 'register', label: 'Parley registers with an account' },
          ]}
        />
        {auth === 'register' && (
          <fieldset className="registration">
            <legend>{label('Registration')}</legend>
            <TextField
              label={label('Registrar')}
              hint="HOST:PORT the REGISTER goes to; empty: the first SIP address."
              value={registrar}
              error={errors.registrar}
              onChange={(e) => setRegistrar(e.target.value)}
            />
            <TextField
              label={label('Account user name')}
              autoComplete="off"
              value={username}
              error={errors.username}
              onChange={(e) => setUsername(e.target.value)}
            />
            <TextField
              label={label('Account password')}
              type="password"
              autoComplete="new-password"
              hint={reg ? 'Stored and never shown: leave empty to keep it.' : undefined}
              value={password}
              error={errors.password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <TextField
              label={label('Auth user name')}
              hint="Only if the carrier’s digest user name differs from the account’s."
              autoComplete="off"
              value={authUsername}
              onChange={(e) => setAuthUsername(e.target.value)}
            />
            <TextField
              label={label('Domain')}
              hint="Of our address at the carrier; empty: the registrar’s host."
              value={domain}
              onChange={(e) => setDomain(e.target.value)}
            />
          </fieldset>
        )}
        <SelectField
          label={label('Identity header')}
          value={identity}
          onChange={(e) => setIdentity(e.target.value as TrunkIdentity)}
          options={(Object.keys(identityLabels) as TrunkIdentity[]).map((v) => ({
            value: v,
            label: identityLabels[v],
          }))}
        />
        <label className="check">
          <input type="checkbox" checked={healthCheck} onChange={(e) => setHealthCheck(e.target.checked)} />
          {label('Health check (OPTIONS pings)')}
        </label>
        <label className="check">
          <input type="checkbox" checked={emergency} onChange={(e) => setEmergency(e.target.checked)} />
          {label('Emergency calls (tried first for 112, 999, 911 ...)')}
        </label>
        <label className="check">
          <input type="checkbox" checked={pidfLo} onChange={(e) => setPidfLo(e.target.checked)} />
          {label("Send the caller's location with emergency calls (PIDF-LO)")}
        </label>
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
