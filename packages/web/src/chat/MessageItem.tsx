/**
 * One message: sender, time, the text (with light formatting: **bold**, _italic_, `code`, and
 * mentions), the message it replies to, attachments (image previews from the thumbnails), an edited
 * mark or the tombstone of a deleted one, receipts on your own (sent, delivered, read), and its actions
 * (reply; edit and delete on your own).
 */
import { memo, useState, type ReactNode } from 'react';
import type { ConversationMember, Message } from '@parley/protocol';
import { Banner, Button, Dialog } from '../ui/index.ts';
import { useAction } from '../session/use-action.ts';
import { errorSentence } from '../errors/messages.ts';
import type { ChatStore, PendingMessage } from './chat-store.ts';
import { shortTime } from './format.ts';
import { AttachmentView } from './AttachmentView.tsx';

export const MessageItem = memo(function MessageItem({
  message: m,
  store,
  members,
  me,
  replied,
  canAct,
  onReply,
}: {
  message: Message;
  store: ChatStore;
  members: ConversationMember[];
  me: string;
  replied: Message | null;
  canAct: boolean;
  onReply: () => void;
}) {
  const mine = m.senderId === me;
  const sender = mine ? 'You' : (store.userName(m.senderId) ?? 'Someone');
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(m.text);
  const [confirming, setConfirming] = useState(false);
  const save = useAction();
  const del = useAction();
  const deleted = m.deletedAt !== null;
  const mentionNames = m.mentions
    .map((u) => (u === me ? null : store.userName(u)))
    .filter(Boolean) as string[];
  if (m.mentions.includes(me)) mentionNames.push(currentName(members, me) ?? '');

  return (
    <li
      className={`message${mine ? ' mine' : ''}${deleted ? ' deleted' : ''}`}
      aria-label={`${sender}, ${shortTime(m.createdAt)}`}
    >
      <div className="message-meta">
        <span className="message-sender">{sender}</span>
        <time dateTime={m.createdAt}>{shortTime(m.createdAt)}</time>
        {m.editedAt && !deleted && <span className="message-edited">(edited)</span>}
      </div>
      {replied && (
        <blockquote className="message-reply">
          <span className="visually-hidden">In reply to </span>
          {store.userName(replied.senderId) ?? (replied.senderId === me ? 'You' : 'Someone')}:{' '}
          {replied.deletedAt ? 'a deleted message' : replied.text.slice(0, 120)}
        </blockquote>
      )}
      {deleted ? (
        <p className="message-text tombstone">This message was deleted.</p>
      ) : editing ? (
        <form
          className="message-edit"
          onSubmit={(e) => {
            e.preventDefault();
            void save
              .run(() => store.edit(m.conversationId, m.id, draft))
              .then((ok) => ok && setEditing(false));
          }}
        >
          <label className="visually-hidden" htmlFor={`edit-${m.id}`}>
            Edit your message
          </label>
          <textarea id={`edit-${m.id}`} value={draft} onChange={(e) => setDraft(e.target.value)} rows={2} />
          {save.error && <Banner tone="error">{save.error}</Banner>}
          <div className="row-actions">
            <Button type="submit" variant="primary" busy={save.busy} disabled={!draft.trim()}>
              Save
            </Button>
            <Button onClick={() => setEditing(false)}>Cancel</Button>
          </div>
        </form>
      ) : (
        <p className="message-text">{formatText(m.text, mentionNames)}</p>
      )}
      {!deleted && m.attachments.length > 0 && (
        <div className="attachments">
          {m.attachments.map((a) => (
            <AttachmentView key={a.id} attachment={a} store={store} />
          ))}
        </div>
      )}
      {mine && !deleted && <Receipt seq={m.seq} members={members} me={me} />}
      {canAct && !deleted && !editing && (
        <div className="message-actions">
          <Button variant="ghost" onClick={onReply} aria-label={`Reply to ${sender}`}>
            Reply
          </Button>
          {mine && (
            <>
              <Button
                variant="ghost"
                onClick={() => {
                  setDraft(m.text);
                  setEditing(true);
                }}
                aria-label="Edit message"
              >
                Edit
              </Button>
              <Button
                variant="ghost"
                onClick={() => setConfirming(true)}
                aria-label="Delete message"
                aria-haspopup="dialog"
              >
                Delete
              </Button>
            </>
          )}
        </div>
      )}
      <Dialog
        open={confirming}
        title="Delete this message?"
        onClose={() => setConfirming(false)}
        actions={
          <>
            <Button
              variant="danger"
              busy={del.busy}
              onClick={() =>
                void del
                  .run(() => store.remove(m.conversationId, m.id))
                  .then((ok) => ok && setConfirming(false))
              }
            >
              Delete
            </Button>
            <Button onClick={() => setConfirming(false)}>Keep it</Button>
          </>
        }
      >
        <p>Everyone in the conversation will see that a message was deleted, but not what it said.</p>
        {del.error && <Banner tone="error">{del.error}</Banner>}
      </Dialog>
    </li>
  );
});

function currentName(members: ConversationMember[], id: string): string | null {
  return members.find((m) => m.userId === id)?.user?.displayName ?? null;
}

/** Sent, delivered, read: by the other member (1:1), or how many of the others (groups). */
function Receipt({ seq, members, me }: { seq: number; members: ConversationMember[]; me: string }) {
  const others = members.filter((x) => x.userId !== me);
  if (others.length === 0) return null;
  const read = others.filter((x) => x.readSeq >= seq).length;
  const delivered = others.filter((x) => x.deliveredSeq >= seq || x.readSeq >= seq).length;
  const text =
    others.length === 1
      ? read
        ? 'Read'
        : delivered
          ? 'Delivered'
          : 'Sent'
      : read === others.length
        ? 'Read by everyone'
        : read
          ? `Read by ${read} of ${others.length}`
          : delivered
            ? `Delivered to ${delivered} of ${others.length}`
            : 'Sent';
  return (
    <span className={`receipt${read ? ' is-read' : ''}`} data-testid="receipt">
      {text}
    </span>
  );
}

export function PendingItem({ pending, onDiscard }: { pending: PendingMessage; onDiscard: () => void }) {
  return (
    <li className="message mine pending" aria-label="Your message, sending">
      <div className="message-meta">
        <span className="message-sender">You</span>
        <span>{pending.failed ? 'Not sent' : 'Sending…'}</span>
      </div>
      <p className="message-text">{pending.text}</p>
      {pending.failed !== null && (
        <Banner tone="error" action={<Button onClick={onDiscard}>Discard</Button>}>
          {errorSentence(pending.failed)}
        </Banner>
      )}
    </li>
  );
}

/** **bold**, _italic_, `code` and @mentions of the given names, everything else as typed (never HTML). */
export function formatText(text: string, mentionNames: string[]): ReactNode[] {
  const names = mentionNames.filter(Boolean).map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const mention = names.length ? `|@(?:${names.join('|')})` : '';
  const re = new RegExp(`(\\*\\*[^*\\n]+\\*\\*|_[^_\\n]+_|\`[^\`\\n]+\`${mention})`, 'g');
  return text.split(re).map((part, i) => {
    if (i % 2 === 0) return part;
    if (part.startsWith('**')) return <strong key={i}>{part.slice(2, -2)}</strong>;
    if (part.startsWith('`')) return <code key={i}>{part.slice(1, -1)}</code>;
    if (part.startsWith('@'))
      return (
        <strong key={i} className="mention">
          {part}
        </strong>
      );
    return <em key={i}>{part.slice(1, -1)}</em>;
  });
}
