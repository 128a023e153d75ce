/**
 * Tenant admin: one user's phones at `/admin/users/:userId/phones` (opened from the Users list): the
 * user's extension (the short number colleagues dial from a desk phone) and SIP devices (desk phones and
 * softphones, each a SIP user name and password the phone registers with): add one (the password shown
 * once with the settings to type into the phone), rename it, reset its password, remove it.
 */
import { useState, type FormEvent } from 'react';
import type { SipDevice } from '@parley/protocol';
import { Banner, Button, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { Link } from '../router/router.tsx';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import { formatTime } from '../console/format.ts';
import {
  AddDeviceDialog,
  RemoveDeviceDialog,
  RenameDeviceDialog,
  ResetDeviceDialog,
} from './SipDeviceDialogs.tsx';
import '../console/console.css';

export default function UserPhonesScreen({ params }: { params: Record<string, string> }) {
  const client = useClient();
  const userId = params.userId!;
  const user = useLoad(() => client.directory.user(userId), [client, userId]);
  const name = user.data?.displayName ?? 'this user';
  return (
    <Screen title={user.data ? `Phones of ${user.data.displayName}` : 'Phones'}>
      <p>
        <Link to="/admin/users">Back to users</Link>
      </p>
      <LoadedView
        loaded={user}
        what="the user"
        ready={(u) => (
          <>
            <p className="muted">{u.address}</p>
            <ExtensionSection userId={userId} name={name} />
            <DevicesSection userId={userId} name={name} />
          </>
        )}
      />
    </Screen>
  );
}

function ExtensionSection({ userId, name }: { userId: string; name: string }) {
  const client = useClient();
  const current = useLoad(() => client.admin.extensionOf(userId), [client, userId]);
  const save = useAction();
  const [value, setValue] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const have = current.data?.extension ?? null;
  const shown = value ?? have ?? '';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save
      .run(() => client.admin.setExtension(userId, shown.trim()))
      .then((ok) => {
        if (!ok) return;
        setValue(null);
        setSaved(`${name} now has extension ${shown.trim()}.`);
        current.reload();
      });
  };
  const clear = () =>
    void save
      .run(() => client.admin.clearExtension(userId))
      .then((ok) => {
        if (!ok) return;
        setValue(null);
        setSaved(`${name} has no extension now.`);
        current.reload();
      });
  return (
    <section className="subsection" aria-labelledby="extension-title">
      <h2 id="extension-title" className="section-title">
        Extension
      </h2>
      <LoadedView
        loaded={current}
        what="the extension"
        ready={() => (
          <form className="form" onSubmit={submit}>
            {save.error && <Banner tone="error">{save.error}</Banner>}
            {saved && <Banner tone="success">{saved}</Banner>}
            <TextField
              label="Extension"
              inputMode="numeric"
              pattern="[1-9][0-9]{1,7}"
              maxLength={8}
              hint="2 to 8 digits, not starting with 0; colleagues' phones dial it. Emergency numbers are refused."
              value={shown}
              onChange={(e) => {
                setSaved(null);
                setValue(e.target.value);
              }}
            />
            <div className="form-actions">
              <Button type="submit" variant="primary" busy={save.busy} disabled={!shown.trim()}>
                Save extension
              </Button>
              {have && (
                <Button busy={save.busy} onClick={clear}>
                  Remove extension
                </Button>
              )}
            </div>
          </form>
        )}
      />
    </section>
  );
}

function DevicesSection({ userId, name }: { userId: string; name: string }) {
  const client = useClient();
  const devices = useLoad(() => client.admin.sipDevices(userId), [client, userId]);
  const [adding, setAdding] = useState(false);
  const [renaming, setRenaming] = useState<SipDevice | null>(null);
  const [resetting, setResetting] = useState<SipDevice | null>(null);
  const [removing, setRemoving] = useState<SipDevice | null>(null);
  return (
    <section className="subsection" aria-labelledby="devices-title">
      <div className="pane-header">
        <h2 id="devices-title" className="section-title">
          SIP devices
        </h2>
        <Button variant="primary" aria-haspopup="dialog" onClick={() => setAdding(true)}>
          Add a phone
        </Button>
      </div>
      <p className="muted small">
        Desk phones and softphones that ring with {name}&rsquo;s browser and call from {name}&rsquo;s number.
      </p>
      <LoadedView
        loaded={devices}
        what="phones"
        isEmpty={(d) => d.items.length === 0}
        empty={<p>No phones yet.</p>}
        ready={(d) => (
          <Table
            caption={`SIP devices of ${name}`}
            rows={d.items}
            rowKey={(x) => x.id}
            columns={[
              { header: 'Name', cell: (x) => <strong>{x.name}</strong> },
              { header: 'SIP user name', cell: (x) => <code>{x.username}</code> },
              { header: 'Domain', cell: (x) => x.domain },
              { header: 'Password set', cell: (x) => formatTime(x.passwordSetAt) },
              {
                header: 'Actions',
                cell: (x) => (
                  <div className="row-actions">
                    <Button
                      aria-label={`Rename ${x.name}`}
                      aria-haspopup="dialog"
                      onClick={() => setRenaming(x)}
                    >
                      Rename
                    </Button>
                    <Button
                      aria-label={`Reset password of ${x.name}`}
                      aria-haspopup="dialog"
                      onClick={() => setResetting(x)}
                    >
                      Reset password
                    </Button>
                    <Button
                      variant="danger"
                      aria-label={`Remove ${x.name}`}
                      aria-haspopup="dialog"
                      onClick={() => setRemoving(x)}
                    >
                      Remove
                    </Button>
                  </div>
                ),
              },
            ]}
          />
        )}
      />
      <AddDeviceDialog
        userId={userId}
        userName={name}
        open={adding}
        onClose={() => setAdding(false)}
        onDone={devices.reload}
      />
      {renaming && (
        <RenameDeviceDialog device={renaming} onClose={() => setRenaming(null)} onDone={devices.reload} />
      )}
      {resetting && (
        <ResetDeviceDialog
          device={resetting}
          onClose={() => {
            setResetting(null);
            devices.reload();
          }}
        />
      )}
      {removing && (
        <RemoveDeviceDialog device={removing} onClose={() => setRemoving(null)} onDone={devices.reload} />
      )}
    </section>
  );
}
