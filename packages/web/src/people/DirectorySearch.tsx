/**
 * "Add a contact": search the organisation's directory by name or address as you type (debounced),
 * and add a person with one button. People already in the list say so instead.
 */
import { useEffect, useState } from 'react';
import type { User } from '@parley/protocol';
import { Banner, Button, Dialog, EmptyState, Loading, TextField } from '../ui/index.ts';
import { useClient, useSessionObject, useSignedInUser } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import type { ContactsStore } from './contacts-store.ts';

export function DirectorySearch({
  open,
  onClose,
  store,
  have,
}: {
  open: boolean;
  onClose: () => void;
  store: ContactsStore;
  have: ReadonlySet<string>;
}) {
  const client = useClient();
  const session = useSessionObject();
  const me = useSignedInUser();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<User[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [adding, setAdding] = useState<string | null>(null);

  useEffect(() => {
    if (!open) return;
    let stale = false;
    setError(null);
    const t = setTimeout(
      () => {
        client.directory.search(query.trim(), { limit: 20 }).then(
          (page) => !stale && setResults(page.items.filter((u) => u.id !== me.id)),
          (err: unknown) => !stale && setError(session.failed(err)),
        );
      },
      query ? 200 : 0,
    );
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [open, query, client, session, me.id]);

  const addAction = useAction();
  const add = async (u: User) => {
    setAdding(u.id);
    await addAction.run(() => store.put(u.id));
    setAdding(null);
  };

  return (
    <Dialog open={open} title="Add a contact" onClose={onClose}>
      <div className="form">
        <TextField
          label="Search the directory"
          hint="A name or an address, such as “car” or “carol@”."
          type="search"
          autoFocus
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        {(error ?? addAction.error) && <Banner tone="error">{error ?? addAction.error}</Banner>}
        {results === null ? (
          <Loading label="Searching…" />
        ) : results.length === 0 ? (
          <EmptyState title="Nobody found">
            <p>Try the first letters of a first name, last name or address.</p>
          </EmptyState>
        ) : (
          <ul className="list" aria-label="Search results">
            {results.map((u) => (
              <li key={u.id} className="result-row">
                <span className="contact-main">
                  <span className="contact-name">{u.displayName}</span>
                  <span className="contact-sub">
                    {[u.title, u.department].filter(Boolean).join(', ') || u.address}
                  </span>
                </span>
                {have.has(u.id) ? (
                  <span className="muted small">In your contacts</span>
                ) : (
                  <Button
                    variant="primary"
                    busy={adding === u.id}
                    onClick={() => void add(u)}
                    aria-label={`Add ${u.displayName}`}
                  >
                    Add
                  </Button>
                )}
              </li>
            ))}
          </ul>
        )}
      </div>
    </Dialog>
  );
}
