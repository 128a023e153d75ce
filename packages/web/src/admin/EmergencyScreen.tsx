/**
 * Tenant admin: emergency calls. The organisation's sites (named civic addresses: an office, a floor),
 * where each user is (a site, or an address of their own, kept through the API or `parley`), and the
 * emergency callback number shown for callers with no number of their own. An emergency call (112,
 * 999, 911 ... as the dial plan country has them) sends the caller's location to the carrier when the
 * carrier takes it, and every admin is alerted by a notice on screen and an e-mail.
 */
import { useState } from 'react';
import type { UserLocation } from '@parley/sdk';
import { civicAddressText, type CivicAddress } from '@parley/protocol';
import { Banner, Button, EmptyState, SelectField, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import '../console/console.css';
import '../operator/telephony.css';

function CallbackForm({
  initial,
  country,
  numbers,
}: {
  initial: string | null;
  country: string;
  numbers: string[];
}) {
  const client = useClient();
  const save = useAction();
  const [value, setValue] = useState(initial ?? '');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  return (
    <form
      className="form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const n = value.replace(/[\s().-]/g, '');
        setSaved(false);
        const ok = n === '' || /^\+[1-9]\d{1,14}$/.test(n);
        setError(ok ? null : 'An international number: + and the country code, such as +442079460000.');
        if (!ok) return;
        void save.run(() => client.emergency.setCallbackNumber(n || null)).then((done) => setSaved(done));
      }}
    >
      <h2>Emergency callback number</h2>
      <p>
        Emergency numbers recognised {country ? `in ${country}` : '(no dial plan country set)'}:{' '}
        <strong>{numbers.join(', ')}</strong>. They always go through, with no licence or credit, and are
        never billed.
      </p>
      <TextField
        label="Emergency callback number"
        hint="Shown to the emergency services for callers with no number of their own. Empty: none."
        value={value}
        error={error}
        autoComplete="off"
        onChange={(e) => setValue(e.target.value)}
      />
      {save.error && <Banner tone="error">{save.error}</Banner>}
      {saved && <Banner tone="success">Callback number saved.</Banner>}
      <div className="form-actions">
        <Button type="submit" busy={save.busy}>
          Save callback number
        </Button>
      </div>
    </form>
  );
}

const EMPTY = { name: '', houseNumber: '', street: '', city: '', postalCode: '', country: '', floor: '' };

function SiteForm({ country, onSaved }: { country: string; onSaved: () => void }) {
  const client = useClient();
  const save = useAction();
  const [f, setF] = useState({ ...EMPTY, country });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const field = (k: keyof typeof EMPTY, label: string, hint?: string) => (
    <TextField
      label={label}
      hint={hint}
      value={f[k]}
      error={errors[k] ?? null}
      autoComplete="off"
      onChange={(e) => setF({ ...f, [k]: e.target.value })}
    />
  );
  return (
    <form
      className="form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const problems: Record<string, string> = {};
        if (f.name.trim() === '') problems.name = 'A name people know the place by.';
        if (f.city.trim() === '') problems.city = 'The city or town.';
        const cc = f.country.trim().toUpperCase();
        if (!/^[A-Z]{2}$/.test(cc)) problems.country = 'Two letters, such as GB, US or FR.';
        setErrors(problems);
        if (Object.keys(problems).length > 0) return;
        const opt = (v: string) => (v.trim() === '' ? undefined : v.trim());
        const address: CivicAddress = {
          country: cc,
          city: f.city.trim(),
          street: opt(f.street),
          houseNumber: opt(f.houseNumber),
          postalCode: opt(f.postalCode),
          floor: opt(f.floor),
        };
        void save
          .run(() => client.emergency.addSite(f.name.trim(), address))
          .then((ok) => {
            if (!ok) return;
            setF({ ...EMPTY, country: cc });
            onSaved();
          });
      }}
    >
      <h2>Add a site</h2>
      {field('name', 'Site name', 'Such as Head office, or London 3rd floor.')}
      {field('houseNumber', 'House number')}
      {field('street', 'Street')}
      {field('floor', 'Floor')}
      {field('city', 'City or town')}
      {field('postalCode', 'Postal code')}
      {field('country', 'Country', 'Two letters, such as GB.')}
      {save.error && <Banner tone="error">{save.error}</Banner>}
      <div className="form-actions">
        <Button type="submit" busy={save.busy}>
          Add site
        </Button>
      </div>
    </form>
  );
}

function where(loc: UserLocation | undefined): string {
  if (!loc) return '';
  if (loc.siteId) return loc.siteId;
  return loc.address ? 'own' : '';
}

export default function EmergencyScreen() {
  const client = useClient();
  const data = useLoad(async () => {
    const [settings, sites, locations, users] = await Promise.all([
      client.emergency.settings(),
      client.emergency.sites(),
      client.emergency.locations(),
      client.admin.listUsers({ limit: 200 }),
    ]);
    return { settings, sites: sites.items, locations: locations.items, users: users.items };
  }, [client]);
  const act = useAction();
  return (
    <Screen title="Emergency calls">
      <LoadedView
        loaded={data}
        what="emergency settings"
        ready={(d) => {
          const byUser = new Map(d.locations.map((l) => [l.userId, l]));
          return (
            <>
              {act.error && <Banner tone="error">{act.error}</Banner>}
              {d.sites.length === 0 ? (
                <EmptyState title="No sites yet">
                  <p>Add the addresses your people work at, then say who is where.</p>
                </EmptyState>
              ) : (
                <Table
                  caption="Sites"
                  rows={d.sites}
                  rowKey={(s) => s.id}
                  columns={[
                    { header: 'Site', cell: (s) => s.name },
                    { header: 'Address', cell: (s) => civicAddressText(s.address) },
                    { header: 'People', cell: (s) => String(s.users) },
                    {
                      header: 'Remove',
                      cell: (s) => (
                        <Button
                          variant="ghost"
                          busy={act.busy}
                          aria-label={`Remove ${s.name}`}
                          onClick={() =>
                            void act
                              .run(() => client.emergency.removeSite(s.id))
                              .then((ok) => ok && data.reload())
                          }
                        >
                          Remove
                        </Button>
                      ),
                    },
                  ]}
                />
              )}
              <Table
                caption="Where people are"
                rows={d.users.filter((u) => u.enabled)}
                rowKey={(u) => u.id}
                columns={[
                  { header: 'Person', cell: (u) => `${u.displayName} (${u.address})` },
                  {
                    header: 'Location',
                    cell: (u) => {
                      const loc = byUser.get(u.id);
                      const own = loc?.address ?? null;
                      return (
                        <SelectField
                          label={`Location of ${u.displayName}`}
                          className="field-inline label-hidden"
                          value={where(loc)}
                          disabled={act.busy}
                          onChange={(e) => {
                            const v = e.target.value;
                            if (v === 'own') return;
                            void act
                              .run(() =>
                                client.emergency.setLocation(u.id, { siteId: v || null, address: null }),
                              )
                              .then((ok) => ok && data.reload());
                          }}
                          options={[
                            { value: '', label: 'No location' },
                            ...d.sites.map((s) => ({ value: s.id, label: s.name })),
                            ...(own
                              ? [{ value: 'own', label: `Own address: ${civicAddressText(own)}` }]
                              : []),
                          ]}
                        />
                      );
                    },
                  },
                ]}
              />
              <SiteForm country={d.settings.country} onSaved={data.reload} />
              <CallbackForm
                initial={d.settings.callbackNumber}
                country={d.settings.country}
                numbers={d.settings.numbers}
              />
            </>
          );
        }}
      />
    </Screen>
  );
}
