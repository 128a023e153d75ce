/**
 * One conversation: its header, the messages (the latest page first; older pages load when the user
 * scrolls to the top or presses "Load earlier messages"), who is typing, and the composer. Files
 * dropped anywhere on it are attached. It stays scrolled to the newest message unless the user has
 * scrolled up to read.
 */
import { useEffect, useLayoutEffect, useRef, useState, type DragEvent } from 'react';
import type { Message } from '@parley/protocol';
import { Banner, Button, EmptyState, Loading } from '../ui/index.ts';
import { Link } from '../router/router.tsx';
import { useSessionObject, useSignedInUser } from '../session/use-session.ts';
import { useThread, type ChatStore } from './chat-store.ts';
import { MessageItem, PendingItem } from './MessageItem.tsx';
import { Composer, type ComposerHandle } from './Composer.tsx';
import { CallButtons } from '../calls/CallButtons.tsx';

export function Thread({ id, store }: { id: string; store: ChatStore }) {
  const session = useSessionObject();
  const me = useSignedInUser();
  const t = useThread(store, id);
  const listRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const olderFrom = useRef<number | null>(null);
  const composer = useRef<ComposerHandle>(null);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [dragging, setDragging] = useState(false);
  const [olderError, setOlderError] = useState<string | null>(null);

  useEffect(() => {
    void store.open(id);
    return () => store.close(id);
  }, [store, id]);

  // Keep the newest message in view (unless the user scrolled up); after loading older messages keep
  // the one that was at the top where it was.
  useLayoutEffect(() => {
    const el = listRef.current;
    if (!el) return;
    if (olderFrom.current !== null) {
      el.scrollTop = el.scrollHeight - olderFrom.current;
      olderFrom.current = null;
    } else if (stick.current) el.scrollTop = el.scrollHeight;
  }, [t.messages, t.pending, t.typing]);

  const loadOlder = () => {
    const el = listRef.current;
    if (!el || t.loadingOlder || !t.hasOlder) return;
    olderFrom.current = el.scrollHeight - el.scrollTop;
    setOlderError(null);
    store.loadOlder(id).catch((err: unknown) => {
      olderFrom.current = null;
      setOlderError(session.failed(err));
    });
  };

  if (t.status === 'loading') return <Loading label="Loading the conversation…" />;
  if (t.status === 'failed' || !t.conversation)
    return (
      <EmptyState title="This conversation could not be opened">
        <p>{session.failed(t.error)}</p>
        <Link to="/chat">Back to your conversations</Link>
      </EmptyState>
    );

  const c = t.conversation;
  const title = store.titleOf(c, me.id);
  const byId = new Map(t.messages.map((m) => [m.id, m]));
  const left = c.me.leftSeq !== null;
  const typingNames = t.typing.map((u) => store.userName(u) ?? 'Someone');

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (!left && e.dataTransfer.files.length) composer.current?.attach(Array.from(e.dataTransfer.files));
  };

  return (
    <div
      className={`thread${dragging ? ' is-dragging' : ''}`}
      onDragOver={(e) => {
        if (left || !e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
    >
      <header className="thread-header">
        <Link to="/chat" className="back-link">
          <span aria-hidden="true">←</span> Conversations
        </Link>
        <h2 className="thread-title">{title}</h2>
        <span className="thread-sub">
          {c.kind === 'group' ? `${c.memberCount} members` : 'Direct conversation'}
        </span>
        {c.kind === 'direct' && c.peerId && <CallButtons userId={c.peerId} name={title} compact />}
      </header>
      <div
        className="messages"
        ref={listRef}
        aria-label={`Messages with ${title}`}
        role="log"
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          if (el.scrollTop < 60) loadOlder();
        }}
      >
        <ol className="message-list">
          {t.hasOlder && (
            <li className="older">
              <Button variant="ghost" busy={t.loadingOlder} onClick={loadOlder}>
                Load earlier messages
              </Button>
              {olderError && <Banner tone="error">{olderError}</Banner>}
            </li>
          )}
          {t.messages.length === 0 && t.pending.length === 0 && (
            <li className="messages-empty">No messages yet. Say hello!</li>
          )}
          {t.messages.map((m) => (
            <MessageItem
              key={m.seq}
              message={m}
              store={store}
              members={t.members}
              me={me.id}
              replied={m.replyTo ? (byId.get(m.replyTo) ?? null) : null}
              canAct={!left}
              onReply={() => {
                setReplyTo(m);
                composer.current?.focus();
              }}
            />
          ))}
          {t.pending.map((p) => (
            <PendingItem
              key={p.clientMessageId}
              pending={p}
              onDiscard={() => store.discard(id, p.clientMessageId)}
            />
          ))}
        </ol>
      </div>
      <p className="typing" aria-live="polite">
        {typingNames.length === 1
          ? `${typingNames[0]} is typing…`
          : typingNames.length > 1
            ? `${typingNames.join(', ')} are typing…`
            : ''}
      </p>
      {left ? (
        <Banner tone="info">
          You are no longer in this conversation; its history up to then stays here.
        </Banner>
      ) : (
        <Composer
          ref={composer}
          conversationId={id}
          store={store}
          members={t.members.filter((m) => m.userId !== me.id)}
          replyTo={replyTo}
          onCancelReply={() => setReplyTo(null)}
          onSent={() => {
            setReplyTo(null);
            stick.current = true;
          }}
        />
      )}
      {dragging && (
        <div className="drop-hint" aria-hidden="true">
          Drop files to attach them
        </div>
      )}
    </div>
  );
}
