/**
 * The chat screen: conversations (with unread badges and their total) beside the open conversation; at
 * narrow widths one at a time, the conversation with a link back to the list.
 */
import { useEffect, useState } from 'react';
import { Banner, Button, EmptyState, Loading } from '../ui/index.ts';
import { useClient, useSessionObject, useSignedInUser } from '../session/use-session.ts';
import { attention } from '../notify/attention.ts';
import { chatStoreOf, useChatList } from './chat-store.ts';
import { ConversationList } from './ConversationList.tsx';
import { Thread } from './Thread.tsx';
import { NewConversationDialog } from './NewConversationDialog.tsx';
import { SearchDialog } from './SearchDialog.tsx';
import './chat.css';

export default function ChatScreen({ params }: { params: Record<string, string> }) {
  const client = useClient();
  const session = useSessionObject();
  const me = useSignedInUser();
  const store = chatStoreOf(client);
  const list = useChatList(store);
  const [creating, setCreating] = useState(false);
  const [searching, setSearching] = useState(false);
  const [permission, setPermission] = useState(attention.permission);
  const selected = params.conversationId ?? null;

  useEffect(() => {
    void store.loadList();
  }, [store]);

  return (
    <div className={`chat${selected ? ' has-selection' : ''}`}>
      <section className="pane pane-list chat-list-pane" aria-labelledby="chat-title">
        <div className="pane-header">
          <h1 id="chat-title" className="pane-title">
            Chats
            {list.unreadTotal > 0 && (
              <span className="unread-total" aria-label={`${list.unreadTotal} unread in all`}>
                {list.unreadTotal}
              </span>
            )}
          </h1>
          <div className="pane-actions">
            <Button variant="primary" onClick={() => setCreating(true)} aria-haspopup="dialog">
              New chat
            </Button>
            <Button variant="ghost" onClick={() => setSearching(true)} aria-haspopup="dialog">
              Search
            </Button>
          </div>
        </div>
        {permission === 'default' && (
          <Banner
            tone="info"
            action={
              <Button onClick={() => void attention.requestPermission().then(setPermission)}>Turn on</Button>
            }
          >
            Get a desktop notification for new messages while Parley is in the background.
          </Banner>
        )}
        {list.status === 'loading' && <Loading label="Loading your conversations…" />}
        {list.status === 'failed' && (
          <Banner tone="error" action={<Button onClick={() => void store.loadList()}>Try again</Button>}>
            {session.failed(list.error)}
          </Banner>
        )}
        {list.status === 'ready' &&
          (list.conversations.length ? (
            <ConversationList
              store={store}
              conversations={list.conversations}
              selected={selected}
              me={me.id}
            />
          ) : (
            <EmptyState
              title="No conversations yet"
              action={
                <Button variant="primary" onClick={() => setCreating(true)}>
                  Start a chat
                </Button>
              }
            >
              <p>Start one with a colleague, or a group with several.</p>
            </EmptyState>
          ))}
      </section>
      <section className="pane pane-detail chat-thread-pane" aria-label="Conversation">
        {selected ? (
          <Thread key={selected} id={selected} store={store} />
        ) : (
          <EmptyState title="Pick a conversation">
            <p>Its messages show here; new ones arrive as they are sent.</p>
          </EmptyState>
        )}
      </section>
      <NewConversationDialog open={creating} onClose={() => setCreating(false)} />
      <SearchDialog open={searching} onClose={() => setSearching(false)} store={store} />
    </div>
  );
}
