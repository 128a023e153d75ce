/**
 * Tenant admin: the organisation's users with their role and state; add a user, change one (names,
 * role), disable or enable, reset a password, open their phones (SIP devices and extension). The list
 * pages by name and searches as you type.
 */
import { useState, type FormEvent } from 'react';
import type { User } from '@parley/protocol';
import { Banner, Button, Dialog, SelectField, TextField } from '../ui/index.ts';
import { useClient, useSignedInUser } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { Link } from '../router/router.tsx';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import { MailOffBanner } from '../console/MailOffBanner.tsx';
import '../console/console.css';

const roleOptions = [
  { value: 'user', label: 'User' },
  { value: 'admin', label: 'Administrator' },
];
const roleLabel = (r: User['role']) =>
  r === 'admin' ? 'Administrator' : r === 'operator' ? 'Operator' : 'User';

export default function UsersScreen() {
  const client = useClient();
  const me = useSignedInUser();
  const [query, setQuery] = useState('');
  const [pages, setPages] = useState(1);
  const users = useLoad(async () => {
    const items: User[] = [];
    let cursor: string | undefined;
    let next: string | null = null;
    for (let i = 0; i < pages; i++) {
      const page = await client.admin.listUsers({ query: query || undefined, limit: 50, cursor });
      items.push(...page.items);
      next = page.nextCursor;
      if (!next) break;
      cursor = next;
    }
    // Each user's extension beside them (one request for the tenant's whole list, in number order).
    const extensions = new Map((await client.admin.extensions()).items.map((e) => [e.userId, e.extension]));
    return { items, next, extensions };
  }, [client, query, pages]);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<User | null>(null);
  const [resetting, setResetting] = useState<User | null>(null);
  const toggle = useAction();

  return (
    <Screen
      title="Users"
      actions={
        <>
          <Button variant="primary" aria-haspopup="dialog" onClick={() => setAdding(true)}>
            Add a user
          </Button>
          <Link className="btn btn-secondary" to="/admin/import">
            Import from CSV
          </Link>
        </>
      }
    >
      <MailOffBanner as="admin" />
      <TextField
        label="Search users"
        type="search"
        value={query}
        placeholder="Name or address"
        onChange={(e) => {
          setQuery(e.target.value);
          setPages(1);
        }}
      />
      {toggle.error && <Banner tone="error">{toggle.error}</Banner>}
      <LoadedView
        loaded={users}
        what="users"
        isEmpty={(d) => d.items.length === 0}
        ready={(d) => (
          <>
            <Table
              caption="Users"
              rows={d.items}
              rowKey={(u) => u.id}
              columns={[
                {
                  header: 'Name',
                  cell: (u) => (
                    <>
                      <strong>{u.displayName}</strong>
                      {u.title && <div className="muted small">{u.title}</div>}
                    </>
                  ),
                },
                { header: 'Address', cell: (u) => u.address },
                { header: 'Extension', cell: (u) => d.extensions.get(u.id) ?? '' },
                { header: 'Role', cell: (u) => roleLabel(u.role) },
                {
                  header: 'State',
                  cell: (u) =>
                    u.enabled ? (
                      <span className="tag">Enabled</span>
                    ) : (
                      <span className="tag tag-warn">Disabled</span>
                    ),
                },
                {
                  header: 'Actions',
                  cell: (u) =>
                    u.role === 'operator' ? (
                      <span className="muted small">Managed by the operator</span>
                    ) : (
                      <div className="row-actions">
                        <Button
                          aria-label={`Edit ${u.displayName}`}
                          aria-haspopup="dialog"
                          onClick={() => setEditing(u)}
                        >
                          Edit
                        </Button>
                        <Link
                          className="btn btn-secondary"
                          to={`/admin/users/${encodeURIComponent(u.id)}/phones`}
                          aria-label={`Phones of ${u.displayName}`}
                        >
                          Phones
                        </Link>
                        <Button
                          aria-label={`Reset password for ${u.displayName}`}
                          aria-haspopup="dialog"
                          onClick={() => setResetting(u)}
                        >
                          Reset password
                        </Button>
                        {u.id !== me.id && (
                          <Button
                            variant={u.enabled ? 'danger' : 'secondary'}
                            aria-label={`${u.enabled ? 'Disable' : 'Enable'} ${u.displayName}`}
                            busy={toggle.busy}
                            onClick={() =>
                              void toggle
                                .run(() => client.admin.updateUser(u.id, { enabled: !u.enabled }))
                                .then((ok) => ok && users.reload())
                            }
                          >
                            {u.enabled ? 'Disable' : 'Enable'}
                          </Button>
                        )}
                      </div>
                    ),
                },
              ]}
            />
            {d.next && <Button onClick={() => setPages((p) => p + 1)}>Show more users</Button>}
          </>
        )}
      />
      <AddUserDialog open={adding} onClose={() => setAdding(false)} onDone={users.reload} />
      {editing && <EditUserDialog user={editing} onClose={() => setEditing(null)} onDone={users.reload} />}
      {resetting && <ResetPasswordDialog user={resetting} onClose={() => setResetting(null)} />}
    </Screen>
  );
}

function AddUserDialog({
  open,
  onClose,
  onDone,
}: {
  open: boolean;
  onClose: () => void;
  onDone: () => void;
}) {
  const client = useClient();
  const save = useAction();
  const [f, setF] = useState({
    displayName: '',
    address: '',
    password: '',
    title: '',
    department: '',
    role: 'user',
  });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) =>
    setF({ ...f, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save
      .run(() =>
        client.admin.createUser({
          displayName: f.displayName,
          address: f.address,
          password: f.password,
          role: f.role as 'user' | 'admin',
          ...(f.title ? { title: f.title } : {}),
          ...(f.department ? { department: f.department } : {}),
        }),
      )
      .then((ok) => {
        if (!ok) return;
        setF({ displayName: '', address: '', password: '', title: '', department: '', role: 'user' });
        onDone();
        onClose();
      });
  };
  return (
    <Dialog open={open} title="Add a user" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        {save.error && <Banner tone="error">{save.error}</Banner>}
        <TextField label="Name" required value={f.displayName} onChange={set('displayName')} />
        <TextField label="Email address" type="email" required value={f.address} onChange={set('address')} />
        <TextField
          label="Password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          hint="At least 8 characters; a few unrelated words are best."
          value={f.password}
          onChange={set('password')}
        />
        <TextField label="Job title" value={f.title} onChange={set('title')} />
        <TextField label="Department" value={f.department} onChange={set('department')} />
        <SelectField label="Role" options={roleOptions} value={f.role} onChange={set('role')} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.busy}>
            Add user
          </Button>
          <Button onClick={onClose}>Cancel</Button>
        </div>
      </form>
    </Dialog>
  );
}

function EditUserDialog({ user, onClose, onDone }: { user: User; onClose: () => void; onDone: () => void }) {
  const client = useClient();
  const save = useAction();
  const [f, setF] = useState({
    displayName: user.displayName,
    title: user.title ?? '',
    department: user.department ?? '',
    role: user.role,
  });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) =>
    setF({ ...f, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save
      .run(() =>
        client.admin.updateUser(user.id, {
          displayName: f.displayName,
          title: f.title || null,
          department: f.department || null,
          ...(f.role !== user.role ? { role: f.role as 'user' | 'admin' } : {}),
        }),
      )
      .then((ok) => {
        if (!ok) return;
        onDone();
        onClose();
      });
  };
  return (
    <Dialog open title={`Edit ${user.displayName}`} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        {save.error && <Banner tone="error">{save.error}</Banner>}
        <TextField label="Name" required value={f.displayName} onChange={set('displayName')} />
        <TextField label="Job title" value={f.title} onChange={set('title')} />
        <TextField label="Department" value={f.department} onChange={set('department')} />
        <SelectField label="Role" options={roleOptions} value={f.role} onChange={set('role')} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.busy}>
            Save changes
          </Button>
          <Button onClick={onClose}>Cancel</Button>
        </div>
      </form>
    </Dialog>
  );
}

function ResetPasswordDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const client = useClient();
  const save = useAction();
  const [password, setPassword] = useState('');
  const [done, setDone] = useState(false);
  return (
    <Dialog open title={`Reset the password of ${user.displayName}`} onClose={onClose}>
      {done ? (
        <>
          <Banner tone="success">
            The password is changed; {user.displayName} is signed out everywhere.
          </Banner>
          <div className="form-actions">
            <Button variant="primary" onClick={onClose}>
              Done
            </Button>
          </div>
        </>
      ) : (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            void save
              .run(() => client.admin.updateUser(user.id, { password }))
              .then((ok) => ok && setDone(true));
          }}
        >
          {save.error && <Banner tone="error">{save.error}</Banner>}
          <TextField
            label="New password"
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <div className="form-actions">
            <Button type="submit" variant="primary" busy={save.busy}>
              Set password
            </Button>
            <Button onClick={onClose}>Cancel</Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
