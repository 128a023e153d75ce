/**
 * "New chat": find people in the directory (as you type), tick one for a 1:1 conversation (the same one
 * every time) or several for a group, with an optional title; opens the conversation.
 */
import { useEffect, useState } from 'react';
import type { User } from '@parley/protocol';
import { Banner, Button, Dialog, EmptyState, Loading, TextField } from '../ui/index.ts';
import { useClient, useSessionObject, useSignedInUser } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { navigate } from '../router/router.tsx';
import { chatStoreOf } from './chat-store.ts';

export function NewConversationDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const client = useClient();
  const session = useSessionObject();
  const me = useSignedInUser();
  const [query, setQuery] = useState('');
  const [title, setTitle] = useState('');
  const [results, setResults] = useState<User[] | null>(null);
  const [picked, setPicked] = useState<Map<string, User>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const create = useAction();

  useEffect(() => {
    if (!open) return;
    let stale = false;
    const t = setTimeout(
      () =>
        client.directory.search(query.trim(), { limit: 20 }).then(
          (page) => !stale && setResults(page.items.filter((u) => u.id !== me.id)),
          (err: unknown) => !stale && setError(session.failed(err)),
        ),
      query ? 200 : 0,
    );
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [open, query, client, session, me.id]);

  const toggle = (u: User) =>
    setPicked((p) => {
      const next = new Map(p);
      if (next.has(u.id)) next.delete(u.id);
      else next.set(u.id, u);
      return next;
    });

  const start = () =>
    void create
      .run(async () => {
        const c = await client.chat.open([...picked.keys()], title.trim() || undefined);
        await chatStoreOf(client).loadList();
        navigate(`/chat/${encodeURIComponent(c.id)}`);
      })
      .then((ok) => {
        if (!ok) return;
        setPicked(new Map());
        setTitle('');
        setQuery('');
        onClose();
      });

  return (
    <Dialog
      open={open}
      title="New chat"
      onClose={onClose}
      actions={
        <>
          <Button variant="primary" onClick={start} busy={create.busy} disabled={picked.size === 0}>
            {picked.size > 1 ? 'Start group chat' : 'Start chat'}
          </Button>
          <Button onClick={onClose}>Cancel</Button>
        </>
      }
    >
      <div className="form">
        <TextField
          label="Find people"
          type="search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          hint="Name or address. Pick one person for a direct chat, or several for a group."
          autoFocus
        />
        {picked.size > 1 && (
          <TextField
            label="Group title (optional)"
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            maxLength={200}
          />
        )}
        {error && <Banner tone="error">{error}</Banner>}
        {create.error && <Banner tone="error">{create.error}</Banner>}
        {results === null ? (
          <Loading label="Searching…" />
        ) : results.length === 0 ? (
          <EmptyState title="Nobody found">
            <p>Try another part of their name or address.</p>
          </EmptyState>
        ) : (
          <ul className="pick-list" aria-label="People">
            {results.map((u) => (
              <li key={u.id}>
                <label className="pick">
                  <input type="checkbox" checked={picked.has(u.id)} onChange={() => toggle(u)} />
                  <span>
                    {u.displayName} <span className="muted">{u.address}</span>
                  </span>
                </label>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Dialog>
  );
}
