/**
 * Message search over your conversations: results ranked by the server, each with a snippet whose
 * matching words are highlighted (`<mark>`, from the server's ranges; never HTML), the conversation
 * and the time; choosing one opens its conversation. "More results" pages on.
 */
import { useEffect, useState } from 'react';
import type { Message } from '@parley/protocol';
import { Banner, Button, Dialog, EmptyState, Loading, TextField } from '../ui/index.ts';
import { useClient, useSessionObject, useSignedInUser } from '../session/use-session.ts';
import { navigate } from '../router/router.tsx';
import type { ChatStore } from './chat-store.ts';
import { highlightRuns, shortTime } from './format.ts';

interface Hit {
  message: Message;
  snippet: string;
  highlights: Array<[number, number]>;
}

export function SearchDialog({
  open,
  onClose,
  store,
}: {
  open: boolean;
  onClose: () => void;
  store: ChatStore;
}) {
  const client = useClient();
  const session = useSessionObject();
  const me = useSignedInUser();
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!open || !query.trim()) {
      setHits(null);
      return;
    }
    let stale = false;
    const t = setTimeout(() => {
      setBusy(true);
      client.chat.search(query.trim(), { limit: 20 }).then(
        (r) => {
          if (stale) return;
          setHits(r.hits);
          setNext(r.nextOffset);
          setError(null);
          setBusy(false);
        },
        (err: unknown) => {
          if (stale) return;
          setError(session.failed(err));
          setBusy(false);
        },
      );
    }, 250);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [open, query, client, session]);

  const more = async () => {
    if (next === null) return;
    try {
      const r = await client.chat.search(query.trim(), { limit: 20, offset: next });
      setHits((h) => [...(h ?? []), ...r.hits]);
      setNext(r.nextOffset);
    } catch (err) {
      setError(session.failed(err));
    }
  };

  const list = store.getList();
  const titleOf = (id: string) => {
    const c = list.conversations.find((x) => x.id === id);
    return c ? store.titleOf(c, me.id) : 'A conversation';
  };

  return (
    <Dialog open={open} title="Search messages" onClose={onClose}>
      <div className="form">
        <TextField
          label="Search messages"
          type="search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          autoFocus
        />
        {error && <Banner tone="error">{error}</Banner>}
        {busy && hits === null && <Loading label="Searching…" />}
        {hits !== null &&
          (hits.length === 0 ? (
            <EmptyState title="No messages match">
              <p>Every word must appear; the last may be the start of a word.</p>
            </EmptyState>
          ) : (
            <ul className="search-results" aria-label="Search results">
              {hits.map((h) => (
                <li key={h.message.id}>
                  <button
                    type="button"
                    className="search-hit"
                    onClick={() => {
                      onClose();
                      navigate(`/chat/${encodeURIComponent(h.message.conversationId)}`);
                    }}
                  >
                    <span className="search-where">
                      {titleOf(h.message.conversationId)} · {store.userName(h.message.senderId) ?? 'Someone'}{' '}
                      · {shortTime(h.message.createdAt)}
                    </span>
                    <span className="search-snippet">
                      {highlightRuns(h.snippet, h.highlights).map((r, i) =>
                        r.hit ? <mark key={i}>{r.text}</mark> : <span key={i}>{r.text}</span>,
                      )}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          ))}
        {next !== null && <Button onClick={() => void more()}>More results</Button>}
      </div>
    </Dialog>
  );
}
