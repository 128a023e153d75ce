/** Operator: every tenant with its domains and state; create a tenant (and open it to add its admin). */
import { useState, type FormEvent } from 'react';
import { Banner, Button, Dialog, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { Link, navigate } from '../router/router.tsx';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import { MailOffBanner } from '../console/MailOffBanner.tsx';
import '../console/console.css';

export default function TenantsScreen() {
  const client = useClient();
  const tenants = useLoad(() => client.operator.tenants(), [client]);
  const [creating, setCreating] = useState(false);
  return (
    <Screen
      title="Tenants"
      actions={
        <Button variant="primary" aria-haspopup="dialog" onClick={() => setCreating(true)}>
          Create a tenant
        </Button>
      }
    >
      <MailOffBanner as="operator" />
      <LoadedView
        loaded={tenants}
        what="tenants"
        isEmpty={(d) => d.items.length === 0}
        ready={(d) => (
          <Table
            caption="Tenants"
            rows={d.items}
            rowKey={(t) => t.id}
            columns={[
              { header: 'Name', cell: (t) => <Link to={`/operator/tenants/${t.id}`}>{t.name}</Link> },
              { header: 'Domains', cell: (t) => t.domains.join(', ') },
              { header: 'Country', cell: (t) => t.country },
              {
                header: 'State',
                cell: (t) =>
                  t.suspended ? (
                    <span className="tag tag-warn">Suspended</span>
                  ) : (
                    <span className="tag">Active</span>
                  ),
              },
            ]}
          />
        )}
      />
      <CreateTenantDialog open={creating} onClose={() => setCreating(false)} />
    </Screen>
  );
}

function CreateTenantDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const client = useClient();
  const save = useAction();
  const [f, setF] = useState({ name: '', domain: '', country: 'US', timeZone: 'UTC' });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) =>
    setF({ ...f, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save.run(async () => {
      const t = await client.operator.createTenant({
        name: f.name,
        domains: [f.domain.trim()],
        country: f.country.trim().toUpperCase(),
        timeZone: f.timeZone.trim(),
      });
      onClose();
      navigate(`/operator/tenants/${t.id}`);
    });
  };
  return (
    <Dialog open={open} title="Create a tenant" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        {save.error && <Banner tone="error">{save.error}</Banner>}
        <TextField label="Organisation name" required value={f.name} onChange={set('name')} />
        <TextField
          label="Domain"
          required
          placeholder="contoso.example"
          value={f.domain}
          onChange={set('domain')}
        />
        <TextField
          label="Country"
          hint="Two letters, such as GB."
          required
          maxLength={2}
          value={f.country}
          onChange={set('country')}
        />
        <TextField
          label="Time zone"
          hint="Such as Europe/London."
          required
          value={f.timeZone}
          onChange={set('timeZone')}
        />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.busy}>
            Create tenant
          </Button>
          <Button onClick={onClose}>Cancel</Button>
        </div>
      </form>
    </Dialog>
  );
}
