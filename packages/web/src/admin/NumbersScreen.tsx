/**
 * Tenant admin: the organisation's phone numbers (given to it by the operator) and who has each: the
 * user's number is their caller ID and calls to it ring all their devices. And the dial plan country:
 * the country whose national numbers (`020 7946 0000` in GB) people may dial without the +.
 */
import { useState } from 'react';
import { Banner, Button, EmptyState, SelectField, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import '../console/console.css';
import '../operator/telephony.css';

function DialPlanForm({ country: initial }: { country: string }) {
  const client = useClient();
  const save = useAction();
  const [country, setCountry] = useState(initial);
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const cc = country.trim().toUpperCase();
        setSaved(null);
        setError(/^[A-Z]{2}$/.test(cc) ? null : 'Two letters, such as GB, US or FR.');
        if (!/^[A-Z]{2}$/.test(cc)) return;
        void save
          .run(() => client.telephony.setDialPlan(cc))
          .then((ok) => {
            if (!ok) return;
            setCountry(cc);
            setSaved(cc);
          });
      }}
    >
      <h2>Dial plan</h2>
      <TextField
        label="Dial plan country"
        hint="National numbers of this country can be dialled without +; others need + and the country code."
        value={country}
        error={error}
        autoComplete="off"
        onChange={(e) => setCountry(e.target.value)}
      />
      {save.error && <Banner tone="error">{save.error}</Banner>}
      {saved && <Banner tone="success">People now dial national numbers of {saved}.</Banner>}
      <div className="form-actions">
        <Button type="submit" busy={save.busy}>
          Save dial plan
        </Button>
      </div>
    </form>
  );
}

export default function NumbersScreen() {
  const client = useClient();
  const data = useLoad(async () => {
    const [numbers, users, plan] = await Promise.all([
      client.telephony.tenantNumbers(),
      client.admin.listUsers({ limit: 200 }),
      client.telephony.dialPlan(),
    ]);
    return { numbers: numbers.items, users: users.items, country: plan.country };
  }, [client]);
  const assign = useAction();
  return (
    <Screen title="Phone numbers">
      <LoadedView
        loaded={data}
        what="phone numbers"
        ready={(d) => {
          const options = [
            { value: '', label: 'Nobody' },
            ...d.users
              .filter((u) => u.enabled)
              .map((u) => ({ value: u.id, label: `${u.displayName} (${u.address})` })),
          ];
          return (
            <>
              {assign.error && <Banner tone="error">{assign.error}</Banner>}
              {d.numbers.length === 0 ? (
                <EmptyState title="No phone numbers yet">
                  <p>Your service provider gives your organisation its numbers.</p>
                </EmptyState>
              ) : (
                <Table
                  caption="Your organisation’s numbers"
                  rows={d.numbers}
                  rowKey={(n) => n.number}
                  columns={[
                    { header: 'Number', cell: (n) => <span className="number">{n.number}</span> },
                    {
                      header: 'Who has it',
                      cell: (n) => (
                        <SelectField
                          label={`Who has ${n.number}`}
                          className="field-inline label-hidden"
                          value={n.userId ?? ''}
                          disabled={assign.busy}
                          onChange={(e) =>
                            void assign
                              .run(() => client.telephony.assignNumber(n.number, e.target.value || null))
                              .then((ok) => ok && data.reload())
                          }
                          options={options}
                        />
                      ),
                    },
                  ]}
                />
              )}
              <DialPlanForm country={d.country} />
            </>
          );
        }}
      />
    </Screen>
  );
}
