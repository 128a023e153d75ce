/**
 * Writing a message: a labelled text area (Enter sends, Shift+Enter starts a new line), @ to mention a
 * member (a list of matching names, chosen with the arrow keys and Enter), the message being replied
 * to, and attachments: the "Attach files" button, files dropped on the conversation (the parent calls
 * `attach`) or an image pasted, each uploaded at once with its progress shown. While the user types,
 * "typing" is repeated every few seconds; clearing the text says "stopped".
 */
import { useImperativeHandle, useRef, useState, type KeyboardEvent, type Ref } from 'react';
import type { ConversationMember, FileInfo, Message } from '@parley/protocol';
import { Banner, Button } from '../ui/index.ts';
import { useClient, useSessionObject } from '../session/use-session.ts';
import type { ChatStore } from './chat-store.ts';
import { formatSize } from './AttachmentView.tsx';

export interface ComposerHandle {
  attach(files: File[]): void;
  focus(): void;
}

interface Upload {
  key: number;
  name: string;
  size: number;
  sent: number;
  info: FileInfo | null;
  error: string | null;
}

const TYPING_REPEAT_MS = 3000;
let uploadKey = 0;

export function Composer({
  ref,
  conversationId,
  store,
  members,
  replyTo,
  onCancelReply,
  onSent,
}: {
  ref: Ref<ComposerHandle>;
  conversationId: string;
  store: ChatStore;
  members: ConversationMember[];
  replyTo: Message | null;
  onCancelReply: () => void;
  onSent: () => void;
}) {
  const client = useClient();
  const session = useSessionObject();
  const [text, setText] = useState('');
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [mentionQuery, setMentionQuery] = useState<string | null>(null);
  const [mentionIndex, setMentionIndex] = useState(0);
  const mentioned = useRef(new Map<string, string>()); // display name -> user id
  const area = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const lastTyping = useRef(0);

  const attach = (files: File[]) => {
    for (const file of files) {
      const key = ++uploadKey;
      const name = file.name || `pasted-image.${file.type.split('/')[1] ?? 'png'}`;
      setUploads((u) => [...u, { key, name, size: file.size, sent: 0, info: null, error: null }]);
      const patch = (p: Partial<Upload>) =>
        setUploads((u) => u.map((x) => (x.key === key ? { ...x, ...p } : x)));
      client.chat.upload(conversationId, name, file, { onProgress: (sent) => patch({ sent }) }).then(
        (info) => patch({ info, sent: file.size }),
        (err: unknown) => patch({ error: session.failed(err) }),
      );
    }
  };
  useImperativeHandle(ref, () => ({ attach, focus: () => area.current?.focus() }));

  const candidates =
    mentionQuery === null
      ? []
      : members
          .filter((m) => (m.user?.displayName ?? '').toLowerCase().includes(mentionQuery.toLowerCase()))
          .slice(0, 6);

  const onChange = (value: string, caret: number) => {
    setText(value);
    const before = value.slice(0, caret);
    const at = /(^|\s)@([^\s@]{0,30})$/.exec(before);
    setMentionQuery(at ? at[2]! : null);
    setMentionIndex(0);
    const now = Date.now();
    if (!value.trim()) {
      if (lastTyping.current) void client.chat.typing(conversationId, false).catch(() => {});
      lastTyping.current = 0;
    } else if (now - lastTyping.current > TYPING_REPEAT_MS) {
      lastTyping.current = now;
      void client.chat.typing(conversationId).catch(() => {});
    }
  };

  const pickMention = (m: ConversationMember) => {
    const el = area.current;
    const name = m.user?.displayName ?? 'someone';
    const caret = el?.selectionStart ?? text.length;
    const before = text.slice(0, caret).replace(/@([^\s@]*)$/, `@${name} `);
    const next = before + text.slice(caret);
    mentioned.current.set(name, m.userId);
    setText(next);
    setMentionQuery(null);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(before.length, before.length);
    });
  };

  const busyUploads = uploads.some((u) => !u.info && !u.error);
  const ready = uploads.filter((u) => u.info);
  const canSend = (text.trim().length > 0 || ready.length > 0) && !busyUploads;

  const send = async () => {
    if (!canSend) return;
    const body = text.trim() || ready.map((u) => u.name).join(', ');
    const mentions = [...mentioned.current].filter(([name]) => body.includes(`@${name}`)).map(([, id]) => id);
    const attachments = ready.map((u) => u.info!.id);
    setError(null);
    setText('');
    setUploads([]);
    lastTyping.current = 0;
    mentioned.current.clear();
    onSent();
    try {
      await store.send(conversationId, body, { replyTo: replyTo?.id ?? null, mentions, attachments });
    } catch (err) {
      setError(session.failed(err));
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (candidates.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const d = e.key === 'ArrowDown' ? 1 : -1;
        setMentionIndex((i) => (i + d + candidates.length) % candidates.length);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        pickMention(candidates[mentionIndex]!);
        return;
      }
      if (e.key === 'Escape') {
        setMentionQuery(null);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  };

  const listId = `mentions-${conversationId}`;
  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      {replyTo && (
        <div className="composer-reply">
          <span>
            Replying to {store.userName(replyTo.senderId) ?? 'a message'}: {replyTo.text.slice(0, 80)}
          </span>
          <Button variant="ghost" onClick={onCancelReply} aria-label="Cancel the reply">
            ×
          </Button>
        </div>
      )}
      {uploads.length > 0 && (
        <ul className="uploads" aria-label="Attachments">
          {uploads.map((u) => (
            <li key={u.key} className="upload">
              <span className="upload-name">
                {u.name} <span className="muted">({formatSize(u.size)})</span>
              </span>
              {u.error ? (
                <span className="field-error">{u.error}</span>
              ) : (
                <progress
                  max={u.size || 1}
                  value={u.sent}
                  aria-label={`Uploading ${u.name}`}
                  aria-valuetext={u.info ? 'Uploaded' : `${Math.round((u.sent / (u.size || 1)) * 100)}%`}
                />
              )}
              <Button
                variant="ghost"
                onClick={() => setUploads((all) => all.filter((x) => x.key !== u.key))}
                aria-label={`Remove ${u.name}`}
              >
                ×
              </Button>
            </li>
          ))}
        </ul>
      )}
      {error && <Banner tone="error">{error}</Banner>}
      <div className="composer-row">
        <Button variant="ghost" onClick={() => fileInput.current?.click()} aria-label="Attach files">
          <svg className="attach-icon" viewBox="0 0 24 24" aria-hidden="true">
            <path d="M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9" />
          </svg>
        </Button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          aria-label="Files to attach"
          onChange={(e) => {
            attach(Array.from(e.target.files ?? []));
            e.target.value = '';
          }}
        />
        <div className="composer-input">
          <label htmlFor={`compose-${conversationId}`} className="visually-hidden">
            Message
          </label>
          <textarea
            id={`compose-${conversationId}`}
            ref={area}
            rows={1}
            placeholder="Write a message (@ to mention)"
            value={text}
            aria-controls={listId}
            aria-autocomplete="list"
            aria-activedescendant={candidates.length ? `${listId}-${mentionIndex}` : undefined}
            onChange={(e) => onChange(e.target.value, e.target.selectionStart)}
            onKeyDown={onKeyDown}
            onPaste={(e) => {
              const files = Array.from(e.clipboardData.files);
              if (files.length) {
                e.preventDefault();
                attach(files);
              }
            }}
          />
          <ul
            id={listId}
            role="listbox"
            aria-label="People to mention"
            className="mention-list"
            hidden={!candidates.length}
          >
            {candidates.map((m, i) => (
              <li
                key={m.userId}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === mentionIndex}
                onMouseDown={(e) => {
                  e.preventDefault();
                  pickMention(m);
                }}
              >
                {m.user?.displayName}
              </li>
            ))}
          </ul>
        </div>
        <Button type="submit" variant="primary" disabled={!canSend}>
          Send
        </Button>
      </div>
    </form>
  );
}
