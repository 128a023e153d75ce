/** Operator: plans (price per user a month, services, allowed destination classes); create and archive. */
import { useState, type FormEvent } from 'react';
import { DESTINATION_CLASSES, SERVICES } from '@parley/protocol';
import { Banner, Button, Dialog, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import { formatAmount } from '../console/format.ts';
import '../console/console.css';

export default function PlansScreen() {
  const client = useClient();
  const plans = useLoad(() => client.operator.plans(), [client]);
  const act = useAction();
  const [creating, setCreating] = useState(false);
  return (
    <Screen
      title="Plans"
      actions={
        <Button variant="primary" aria-haspopup="dialog" onClick={() => setCreating(true)}>
          Create a plan
        </Button>
      }
    >
      {act.error && <Banner tone="error">{act.error}</Banner>}
      <LoadedView
        loaded={plans}
        what="plans"
        isEmpty={(d) => d.items.length === 0}
        ready={(d) => (
          <Table
            caption="Plans"
            rows={d.items}
            rowKey={(p) => p.id}
            columns={[
              { header: 'Name', cell: (p) => p.name },
              { header: 'Per user a month', cell: (p) => formatAmount(p.pricePerUserMonth), numeric: true },
              { header: 'Services', cell: (p) => p.services.join(', ') || '—' },
              { header: 'Calls to', cell: (p) => p.allowedClasses.join(', ') || '—' },
              {
                header: 'State',
                cell: (p) =>
                  p.archived ? (
                    <span className="tag tag-warn">Archived</span>
                  ) : (
                    <Button
                      aria-label={`Archive ${p.name}`}
                      busy={act.busy}
                      onClick={() =>
                        void act
                          .run(() => client.operator.archivePlan(p.id))
                          .then((ok) => ok && plans.reload())
                      }
                    >
                      Archive
                    </Button>
                  ),
              },
            ]}
          />
        )}
      />
      {creating && <CreatePlanDialog onClose={() => setCreating(false)} onDone={plans.reload} />}
    </Screen>
  );
}

function Checks({
  legend,
  all,
  chosen,
  onChange,
}: {
  legend: string;
  all: readonly string[];
  chosen: string[];
  onChange: (v: string[]) => void;
}) {
  return (
    <fieldset className="checks">
      <legend>{legend}</legend>
      {all.map((v) => (
        <label key={v}>
          <input
            type="checkbox"
            checked={chosen.includes(v)}
            onChange={(e) => onChange(e.target.checked ? [...chosen, v] : chosen.filter((x) => x !== v))}
          />
          {v}
        </label>
      ))}
    </fieldset>
  );
}

function CreatePlanDialog({ onClose, onDone }: { onClose: () => void; onDone: () => void }) {
  const client = useClient();
  const save = useAction();
  const [name, setName] = useState('');
  const [price, setPrice] = useState('');
  const [services, setServices] = useState<string[]>(['calling', 'voicemail']);
  const [classes, setClasses] = useState<string[]>(['domestic', 'mobile', 'toll-free', 'emergency']);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save
      .run(() =>
        client.operator.createPlan({
          name,
          pricePerUserMonth: price.trim(),
          services,
          allowedClasses: classes,
        }),
      )
      .then((ok) => {
        if (!ok) return;
        onDone();
        onClose();
      });
  };
  return (
    <Dialog open title="Create a plan" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        {save.error && <Banner tone="error">{save.error}</Banner>}
        <TextField label="Plan name" required value={name} onChange={(e) => setName(e.target.value)} />
        <TextField
          label="Price per user a month"
          required
          inputMode="decimal"
          placeholder="8.00"
          value={price}
          onChange={(e) => setPrice(e.target.value)}
        />
        <Checks legend="Services" all={SERVICES} chosen={services} onChange={setServices} />
        <Checks legend="Calls allowed to" all={DESTINATION_CLASSES} chosen={classes} onChange={setClasses} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.busy}>
            Create plan
          </Button>
          <Button onClick={onClose}>Cancel</Button>
        </div>
      </form>
    </Dialog>
  );
}
