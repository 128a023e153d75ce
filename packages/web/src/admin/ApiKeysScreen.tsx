/** Tenant admin: API keys for server-to-server apps; the secret is shown once, at creation. */
import { useState } from 'react';
import type { CreateApiKeyResponse } from '@parley/protocol';
import { Banner, Button, Dialog, SelectField, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import { formatTime } from '../console/format.ts';
import '../console/console.css';

export default function ApiKeysScreen() {
  const client = useClient();
  const keys = useLoad(() => client.admin.listApiKeys(), [client]);
  const [name, setName] = useState('');
  const [role, setRole] = useState<'user' | 'admin'>('admin');
  const [created, setCreated] = useState<CreateApiKeyResponse | null>(null);
  const create = useAction();
  const revoke = useAction();
  return (
    <Screen title="API keys">
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run(async () => {
            setCreated(await client.admin.createApiKey(name, role));
            setName('');
            keys.reload();
          });
        }}
      >
        {create.error && <Banner tone="error">{create.error}</Banner>}
        <TextField label="Key name" required value={name} onChange={(e) => setName(e.target.value)} />
        <SelectField
          label="Acts as"
          value={role}
          onChange={(e) => setRole(e.target.value as 'user' | 'admin')}
          options={[
            { value: 'admin', label: 'Administrator' },
            { value: 'user', label: 'User' },
          ]}
        />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={create.busy}>
            Create key
          </Button>
        </div>
      </form>
      {revoke.error && <Banner tone="error">{revoke.error}</Banner>}
      <LoadedView
        loaded={keys}
        what="API keys"
        isEmpty={(d) => d.items.length === 0}
        ready={(d) => (
          <Table
            caption="API keys"
            rows={d.items}
            rowKey={(k) => k.id}
            columns={[
              { header: 'Name', cell: (k) => k.name },
              { header: 'Acts as', cell: (k) => (k.role === 'admin' ? 'Administrator' : 'User') },
              { header: 'Starts with', cell: (k) => <code>{k.prefix}</code> },
              { header: 'Created', cell: (k) => formatTime(k.createdAt) },
              { header: 'Last used', cell: (k) => (k.lastUsedAt ? formatTime(k.lastUsedAt) : 'Never') },
              {
                header: 'Actions',
                cell: (k) => (
                  <Button
                    variant="danger"
                    aria-label={`Revoke ${k.name}`}
                    busy={revoke.busy}
                    onClick={() =>
                      void revoke.run(() => client.admin.revokeApiKey(k.id)).then((ok) => ok && keys.reload())
                    }
                  >
                    Revoke
                  </Button>
                ),
              },
            ]}
          />
        )}
      />
      <Dialog open={created !== null} title="Your new API key" onClose={() => setCreated(null)}>
        <p>Copy the secret now: it is shown only this once.</p>
        <p className="secret" aria-label="API key secret">
          {created?.secret}
        </p>
        <div className="form-actions">
          <Button variant="primary" onClick={() => setCreated(null)}>
            I have copied it
          </Button>
        </div>
      </Dialog>
    </Screen>
  );
}
