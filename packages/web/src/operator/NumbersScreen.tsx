/**
 * Operator: the number inventory. Each phone number (DID, in E.164) is a carrier's; the operator adds
 * it, gives it to a tenant (whose admin then gives it to a user), takes it back, or removes it. Giving
 * a number to another tenant clears its user, so a number never carries a user across the wall.
 */
import { useState } from 'react';
import { Banner, Button, EmptyState, SelectField, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import { toE164 } from '../calls/dial-text.ts';
import '../console/console.css';
import './telephony.css';

export default function NumbersScreen() {
  const client = useClient();
  const data = useLoad(async () => {
    const [numbers, carriers, tenants] = await Promise.all([
      client.telephony.numbers(),
      client.operator.carriers(),
      client.operator.tenants(),
    ]);
    return { numbers: numbers.items, carriers: carriers.items, tenants: tenants.items };
  }, [client]);
  const add = useAction();
  const row = useAction();
  const [number, setNumber] = useState('');
  const [numberError, setNumberError] = useState<string | null>(null);
  const [carrierId, setCarrierId] = useState('');
  const [tenantId, setTenantId] = useState('');

  return (
    <Screen title="Phone numbers">
      <LoadedView
        loaded={data}
        what="phone numbers"
        ready={(d) => {
          const carrierName = (id: string) => d.carriers.find((c) => c.id === id)?.name ?? id;
          const tenantOptions = [
            { value: '', label: 'Not given to a tenant' },
            ...d.tenants.map((t) => ({ value: t.id, label: t.name })),
          ];
          const chosenCarrier = carrierId || d.carriers[0]?.id || '';
          return (
            <>
              {d.carriers.length === 0 ? (
                <Banner tone="info">Add a carrier first (Carriers): every number is a carrier’s.</Banner>
              ) : (
                <form
                  className="form"
                  noValidate
                  onSubmit={(e) => {
                    e.preventDefault();
                    const e164 = toE164(number);
                    const problem = !e164
                      ? 'Enter the number in international format, starting with + (+44 20 7946 0000).'
                      : d.numbers.some((n) => n.number === e164)
                        ? 'That number is already in the inventory.'
                        : null;
                    setNumberError(problem);
                    if (problem || !e164) return;
                    void add
                      .run(() =>
                        client.telephony.addNumber({
                          number: e164,
                          carrierId: chosenCarrier,
                          tenantId: tenantId || null,
                        }),
                      )
                      .then((ok) => {
                        if (!ok) return;
                        setNumber('');
                        data.reload();
                      });
                  }}
                >
                  <TextField
                    label="Phone number"
                    hint="International format, such as +44 20 7946 0000."
                    value={number}
                    error={numberError}
                    inputMode="tel"
                    autoComplete="off"
                    onChange={(e) => setNumber(e.target.value)}
                  />
                  <SelectField
                    label="Carrier"
                    value={chosenCarrier}
                    onChange={(e) => setCarrierId(e.target.value)}
                    options={d.carriers.map((c) => ({ value: c.id, label: c.name }))}
                  />
                  <SelectField
                    label="Tenant"
                    value={tenantId}
                    onChange={(e) => setTenantId(e.target.value)}
                    options={tenantOptions}
                  />
                  {add.error && <Banner tone="error">{add.error}</Banner>}
                  <div className="form-actions">
                    <Button type="submit" variant="primary" busy={add.busy}>
                      Add number
                    </Button>
                  </div>
                </form>
              )}
              {row.error && <Banner tone="error">{row.error}</Banner>}
              {d.numbers.length === 0 ? (
                <EmptyState title="No phone numbers yet" />
              ) : (
                <Table
                  caption="Number inventory"
                  rows={d.numbers}
                  rowKey={(n) => n.number}
                  columns={[
                    { header: 'Number', cell: (n) => <span className="number">{n.number}</span> },
                    { header: 'Carrier', cell: (n) => carrierName(n.carrierId) },
                    {
                      header: 'Tenant',
                      cell: (n) => (
                        <SelectField
                          label={`Tenant of ${n.number}`}
                          className="field-inline label-hidden"
                          value={n.tenantId ?? ''}
                          disabled={row.busy}
                          onChange={(e) =>
                            void row
                              .run(() => client.telephony.allocateNumber(n.number, e.target.value || null))
                              .then((ok) => ok && data.reload())
                          }
                          options={tenantOptions}
                        />
                      ),
                    },
                    {
                      header: 'User',
                      cell: (n) => (n.userId ? 'Assigned' : <span className="muted">None</span>),
                    },
                    {
                      header: 'Actions',
                      cell: (n) => (
                        <Button
                          aria-label={`Remove ${n.number}`}
                          busy={row.busy}
                          onClick={() =>
                            void row
                              .run(() => client.telephony.removeNumber(n.number))
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
            </>
          );
        }}
      />
    </Screen>
  );
}
