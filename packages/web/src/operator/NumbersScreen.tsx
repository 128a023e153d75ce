/**
 * Operator: the number inventory. Each phone number (DID, in E.164) is a carrier's; the operator adds
 * it, gives it to a tenant (whose admin then gives it to a user), takes it back, or removes it. Giving
 * a number to another tenant clears its user, so a number never carries a user across the wall.
 * *Import numbers (CSV)* adds many at once: all rows or none, a refused file listing each bad row by its
 * row number (row 1 is the header), as the rate-deck import does.
 */
import { useState } from 'react';
import { ParleyError, type RowProblem } from '@parley/sdk';
import { Banner, Button, EmptyState, SelectField, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import { toE164 } from '../calls/dial-text.ts';
import { CsvSource } from '../console/CsvSource.tsx';
import { useSessionObject } from '../session/use-session.ts';
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
              {d.carriers.length > 0 && <NumberImport onImported={data.reload} />}
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

type Upload =
  | { stage: 'sending' }
  | { stage: 'done'; imported: number }
  | { stage: 'refused'; sentence: string; problems: RowProblem[] };

/** The CSV import: a file (or pasted text) with the header `number,carrier,tenant`. */
function NumberImport({ onImported }: { onImported: () => void }) {
  const client = useClient();
  const session = useSessionObject();
  const [csv, setCsv] = useState('');
  const [upload, setUpload] = useState<Upload | null>(null);
  const start = async () => {
    setUpload({ stage: 'sending' });
    try {
      const r = await client.telephony.importNumbers(csv);
      setUpload({ stage: 'done', imported: r.imported });
      onImported();
    } catch (err) {
      setUpload({
        stage: 'refused',
        sentence: session.failed(err),
        problems: err instanceof ParleyError ? (err.rows ?? []) : [],
      });
    }
  };
  return (
    <div className="subsection">
      <h2>Import numbers (CSV)</h2>
      <p className="muted">
        The first line is <code>number,carrier,tenant</code>: the number in international format, the
        carrier’s name, and the tenant’s domain (or nothing). A file with any bad row imports nothing.
      </p>
      <CsvSource value={csv} onChange={setCsv} label="Numbers CSV text" />
      <div className="form-actions">
        <Button
          variant="primary"
          busy={upload?.stage === 'sending'}
          disabled={!csv.trim()}
          onClick={() => void start()}
        >
          Import numbers
        </Button>
      </div>
      {upload?.stage === 'done' && (
        <Banner tone="success">
          {upload.imported} {upload.imported === 1 ? 'number' : 'numbers'} imported.
        </Banner>
      )}
      {upload?.stage === 'refused' && (
        <>
          <Banner tone="error">
            {upload.sentence}
            {upload.problems.length > 0 &&
              ` ${upload.problems.length} ${upload.problems.length === 1 ? 'problem' : 'problems'} found.`}
          </Banner>
          {upload.problems.length > 0 && (
            <Table
              caption="Problems in the file"
              rows={upload.problems}
              rowKey={(p) => `${p.row}:${p.column ?? ''}:${p.message}`}
              columns={[
                { header: 'Row', cell: (p) => p.row, numeric: true },
                { header: 'Column', cell: (p) => p.column ?? '—' },
                { header: 'Problem', cell: (p) => p.message },
              ]}
            />
          )}
        </>
      )}
    </div>
  );
}
