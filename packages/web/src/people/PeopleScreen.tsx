/**
 * The user client's main screen: the contact list beside the selected contact's card (one column at
 * narrow widths, where the card replaces the list). The right-hand pane is where chat, calls,
 * voicemail and meetings open later, so the list keeps its width whatever is shown beside it.
 */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { User } from '@parley/protocol';
import { Banner, Button, Dialog, EmptyState, Loading, TextField } from '../ui/index.ts';
import { useClient, useSessionObject } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { contactsStoreOf, useContacts } from './contacts-store.ts';
import { presenceStoreOf } from './presence-store.ts';
import { ContactList } from './ContactList.tsx';
import { ContactCard } from './ContactCard.tsx';
import { DirectorySearch } from './DirectorySearch.tsx';

export default function PeopleScreen({ params }: { params: Record<string, string> }) {
  const client = useClient();
  const session = useSessionObject();
  const store = contactsStoreOf(client);
  const snap = useContacts(store);
  const [adding, setAdding] = useState(false);
  const [grouping, setGrouping] = useState(false);
  const selectedId = params.userId ?? null;

  useEffect(() => {
    store.load().catch((err: unknown) => session.failed(err));
  }, [store, session]);

  const have = useMemo(() => new Set(snap.contacts.map((c) => c.userId)), [snap.contacts]);
  const selected = selectedId ? snap.contacts.find((c) => c.userId === selectedId) : undefined;
  const stranger = useStranger(selectedId && !selected && snap.status === 'ready' ? selectedId : null);

  return (
    <div className={`people${selectedId ? ' has-selection' : ''}`}>
      <section className="pane pane-list" aria-labelledby="people-title">
        <div className="pane-header">
          <h1 id="people-title" className="pane-title">
            Contacts
          </h1>
          <div className="pane-actions">
            <Button variant="primary" onClick={() => setAdding(true)} aria-haspopup="dialog">
              Add a contact
            </Button>
            <Button variant="ghost" onClick={() => setGrouping(true)} aria-haspopup="dialog">
              New group
            </Button>
          </div>
        </div>
        {snap.status === 'loading' && <Loading label="Loading your contacts…" />}
        {snap.status === 'failed' && (
          <Banner
            tone="error"
            action={<Button onClick={() => void store.load().catch(() => {})}>Try again</Button>}
          >
            {session.failed(snap.error)}
          </Banner>
        )}
        {snap.status === 'ready' && <ContactList contacts={snap.contacts} groups={snap.groups} />}
      </section>
      <section className="pane pane-detail" aria-label="Details">
        {selected ? (
          <ContactCard user={selected.user} contact={selected} groups={snap.groups} store={store} />
        ) : stranger.user ? (
          <ContactCard user={stranger.user} contact={undefined} groups={snap.groups} store={store} />
        ) : selectedId && stranger.error ? (
          <EmptyState title="This person could not be found">
            <p>{stranger.error}</p>
          </EmptyState>
        ) : selectedId ? (
          <Loading />
        ) : (
          <EmptyState title="Pick someone from your contacts">
            <p>Their card shows their presence, note and local time.</p>
          </EmptyState>
        )}
      </section>
      <DirectorySearch open={adding} onClose={() => setAdding(false)} store={store} have={have} />
      <NewGroupDialog
        open={grouping}
        onClose={() => setGrouping(false)}
        create={(name) => store.createGroup(name).then(() => {})}
      />
    </div>
  );
}

/** A user who is not a contact (opened from a link or search): read from the directory and watched. */
function useStranger(userId: string | null): { user: User | null; error: string | null } {
  const client = useClient();
  const session = useSessionObject();
  const [state, setState] = useState<{ user: User | null; error: string | null }>({
    user: null,
    error: null,
  });
  useEffect(() => {
    setState({ user: null, error: null });
    if (!userId) return;
    let stale = false;
    client.directory.user(userId).then(
      async (user) => {
        if (stale) return;
        setState({ user, error: null });
        // Watched from the next (re)connection on when the link is down now (the SDK re-subscribes).
        const r = await client.presence.subscribe([user.id]).catch(() => null);
        for (const p of r?.presences ?? []) presenceStoreOf(client).put(p);
      },
      (err: unknown) => !stale && setState({ user: null, error: session.failed(err) }),
    );
    return () => {
      stale = true;
    };
  }, [userId, client, session]);
  return state;
}

function NewGroupDialog({
  open,
  onClose,
  create,
}: {
  open: boolean;
  onClose: () => void;
  create: (name: string) => Promise<void>;
}) {
  const action = useAction();
  const [name, setName] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await action.run(() => create(name.trim()))) {
      setName('');
      onClose();
    }
  };
  return (
    <Dialog open={open} title="New contact group" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        {action.error && <Banner tone="error">{action.error}</Banner>}
        <TextField
          label="Group name"
          required
          maxLength={100}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={action.busy}>
            Create group
          </Button>
          <Button onClick={onClose}>Cancel</Button>
        </div>
      </form>
    </Dialog>
  );
}
