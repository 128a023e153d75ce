/** The conversation list: title, last activity and an unread badge per conversation (a link each). */
import type { Conversation } from '@parley/protocol';
import { Link } from '../router/router.tsx';
import { initials } from '../people/ContactRow.tsx';
import type { ChatStore } from './chat-store.ts';
import { shortTime } from './format.ts';

export function ConversationList({
  store,
  conversations,
  selected,
  me,
}: {
  store: ChatStore;
  conversations: Conversation[];
  selected: string | null;
  me: string;
}) {
  return (
    <ul className="conversation-list" aria-label="Conversations">
      {conversations.map((c) => {
        const title = store.titleOf(c, me);
        const unread = c.me.leftSeq === null ? c.me.unread : 0;
        return (
          <li key={c.id}>
            <Link
              to={`/chat/${encodeURIComponent(c.id)}`}
              className={`conversation-link${unread ? ' has-unread' : ''}`}
              aria-current={c.id === selected ? 'page' : undefined}
            >
              <span className="avatar" aria-hidden="true">
                {initials(title)}
              </span>
              <span className="conversation-main">
                <span className="conversation-title">{title}</span>
                <span className="conversation-sub">
                  {c.me.leftSeq !== null
                    ? 'You left'
                    : c.kind === 'group'
                      ? `${c.memberCount} members`
                      : c.lastMessageAt
                        ? shortTime(c.lastMessageAt)
                        : 'No messages yet'}
                </span>
              </span>
              <span className="unread-slot">
                {unread > 0 && (
                  <span className="unread-badge" data-testid="unread-badge" aria-hidden="true">
                    {unread > 99 ? '99+' : unread}
                  </span>
                )}
                {unread > 0 && <span className="visually-hidden">, {unread} unread</span>}
              </span>
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
