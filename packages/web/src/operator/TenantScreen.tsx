/**
 * Operator: one tenant. Suspend or resume it, add and remove domains, see its admins and add one (a new
 * tenant's first admin is added here).
 */
import { useState } from 'react';
import { Banner, Button, Dialog, EmptyState, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { Link } from '../router/router.tsx';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import '../console/console.css';

export default function TenantScreen({ params }: { params: Record<string, string> }) {
  const client = useClient();
  const id = params.tenantId!;
  const data = useLoad(async () => {
    const [tenant, admins] = await Promise.all([
      client.operator.tenant(id),
      client.operator.tenantUsers(id, { role: 'admin', limit: 200 }),
    ]);
    return { tenant, admins: admins.items };
  }, [client, id]);
  const act = useAction();
  const [domain, setDomain] = useState('');
  const [confirmSuspend, setConfirmSuspend] = useState(false);
  const [adding, setAdding] = useState(false);
  return (
    <Screen title={data.status === 'ready' ? data.data.tenant.name : 'Tenant'}>
      <Link to="/operator/tenants" className="back-link">
        All tenants
      </Link>
      {act.error && <Banner tone="error">{act.error}</Banner>}
      <LoadedView
        loaded={data}
        what="the tenant"
        ready={({ tenant, admins }) => (
          <>
            {tenant.suspended ? (
              <Banner
                tone="warning"
                action={
                  <Button
                    busy={act.busy}
                    onClick={() =>
                      void act.run(() => client.operator.resumeTenant(id)).then((ok) => ok && data.reload())
                    }
                  >
                    Resume tenant
                  </Button>
                }
              >
                This tenant is suspended: its people cannot sign in and its API keys are refused.
              </Banner>
            ) : (
              <div className="form-actions">
                <Button variant="danger" aria-haspopup="dialog" onClick={() => setConfirmSuspend(true)}>
                  Suspend tenant
                </Button>
              </div>
            )}
            <div className="subsection">
              <h2>Domains</h2>
              <Table
                caption="Domains"
                rows={tenant.domains}
                rowKey={(d) => d}
                columns={[
                  { header: 'Domain', cell: (d) => d },
                  {
                    header: 'Actions',
                    cell: (d) => (
                      <Button
                        aria-label={`Remove ${d}`}
                        busy={act.busy}
                        disabled={tenant.domains.length === 1}
                        onClick={() =>
                          void act
                            .run(() => client.operator.removeDomain(id, d))
                            .then((ok) => ok && data.reload())
                        }
                      >
                        Remove
                      </Button>
                    ),
                  },
                ]}
              />
              <form
                className="form"
                onSubmit={(e) => {
                  e.preventDefault();
                  void act
                    .run(() => client.operator.addDomain(id, domain.trim()))
                    .then((ok) => {
                      if (!ok) return;
                      setDomain('');
                      data.reload();
                    });
                }}
              >
                <TextField
                  label="New domain"
                  required
                  value={domain}
                  onChange={(e) => setDomain(e.target.value)}
                />
                <div className="form-actions">
                  <Button type="submit" busy={act.busy}>
                    Add domain
                  </Button>
                </div>
              </form>
            </div>
            <div className="subsection">
              <h2>Administrators</h2>
              {admins.length === 0 ? (
                <EmptyState title="No administrator yet">Add the tenant’s first administrator.</EmptyState>
              ) : (
                <Table
                  caption="Administrators"
                  rows={admins}
                  rowKey={(u) => u.id}
                  columns={[
                    { header: 'Name', cell: (u) => u.displayName },
                    { header: 'Address', cell: (u) => u.address },
                    { header: 'State', cell: (u) => (u.enabled ? 'Enabled' : 'Disabled') },
                  ]}
                />
              )}
              <div className="form-actions">
                <Button aria-haspopup="dialog" onClick={() => setAdding(true)}>
                  Add an administrator
                </Button>
              </div>
            </div>
            <Dialog
              open={confirmSuspend}
              title={`Suspend ${tenant.name}?`}
              onClose={() => setConfirmSuspend(false)}
              actions={
                <>
                  <Button
                    variant="danger"
                    busy={act.busy}
                    onClick={() =>
                      void act
                        .run(() => client.operator.suspendTenant(id))
                        .then((ok) => {
                          setConfirmSuspend(false);
                          if (ok) data.reload();
                        })
                    }
                  >
                    Suspend
                  </Button>
                  <Button onClick={() => setConfirmSuspend(false)}>Cancel</Button>
                </>
              }
            >
              <p>Everyone in it is signed out at once and cannot sign in until you resume it.</p>
            </Dialog>
            {adding && (
              <AddAdminDialog
                tenantId={id}
                domain={tenant.domains[0]!}
                onClose={() => setAdding(false)}
                onDone={data.reload}
              />
            )}
          </>
        )}
      />
    </Screen>
  );
}

function AddAdminDialog({
  tenantId,
  domain,
  onClose,
  onDone,
}: {
  tenantId: string;
  domain: string;
  onClose: () => void;
  onDone: () => void;
}) {
  const client = useClient();
  const save = useAction();
  const [f, setF] = useState({ displayName: '', address: '', password: '' });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) =>
    setF({ ...f, [k]: e.target.value });
  return (
    <Dialog open title="Add an administrator" onClose={onClose}>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void save
            .run(() => client.operator.addTenantUser(tenantId, { ...f, role: 'admin' }))
            .then((ok) => {
              if (!ok) return;
              onDone();
              onClose();
            });
        }}
      >
        {save.error && <Banner tone="error">{save.error}</Banner>}
        <TextField label="Name" required value={f.displayName} onChange={set('displayName')} />
        <TextField
          label="Email address"
          type="email"
          required
          placeholder={`name@${domain}`}
          value={f.address}
          onChange={set('address')}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="new-password"
          required
          value={f.password}
          onChange={set('password')}
        />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.busy}>
            Add administrator
          </Button>
          <Button onClick={onClose}>Cancel</Button>
        </div>
      </form>
    </Dialog>
  );
}
