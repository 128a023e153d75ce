/**
 * A contact's card: name, title, department, presence (colour and text, with how long and the note),
 * their local time (the organisation's time zone), and actions: favourite, group, remove, and those
 * other areas add through `cardActions` (chat's "Chat", the calls' "Call" and "Video call").
 */
import { useEffect, useState, type ReactNode } from 'react';
import type { Contact, ContactGroup, User } from '@parley/protocol';
import { Banner, Button, PresenceBadge, SelectField } from '../ui/index.ts';
import { Link, navigate } from '../router/router.tsx';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { usePresence } from './use-presence.ts';
import { initials } from './ContactRow.tsx';
import { untilText } from './status-times.ts';
import type { ContactsStore } from './contacts-store.ts';

const timeZones = new WeakMap<object, Promise<string>>();

/** The organisation's time zone, asked once per page (every card shows it). */
function tenantTimeZone(client: ReturnType<typeof useClient>): Promise<string> {
  let p = timeZones.get(client);
  if (!p) {
    p = client.directory.tenant().then((t) => t.timeZone);
    // A failure is not remembered: the next card asks again.
    p.catch(() => timeZones.delete(client));
    timeZones.set(client, p);
  }
  return p;
}

/** Extra actions other areas put on the card (chat's "Chat"; the calls' "Call" and "Video call"). */
export const cardActions: Array<(user: User) => ReactNode> = [];

export function ContactCard({
  user,
  contact,
  groups,
  store,
}: {
  user: User;
  contact: Contact | undefined;
  groups: ContactGroup[];
  store: ContactsStore;
}) {
  const client = useClient();
  const p = usePresence(user.id);
  const [timeZone, setTimeZone] = useState<string | null>(null);
  const [now, setNow] = useState(() => new Date());
  const action = useAction();
  const { busy, error } = action;

  useEffect(() => {
    tenantTimeZone(client).then(setTimeZone, () => setTimeZone(null));
  }, [client]);
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), 30_000);
    return () => clearInterval(t);
  }, []);

  const act = (f: () => Promise<void>) => action.run(f);
  const availability = p?.availability ?? 'offline';
  const until = untilText(p?.manualUntil ?? null, now);

  return (
    <article className="card" aria-labelledby="card-name">
      <Link to="/" className="back-link">
        <span aria-hidden="true">← </span>Contacts
      </Link>
      <header className="card-header">
        <span className="avatar avatar-large" aria-hidden="true">
          {initials(user.displayName)}
        </span>
        <div>
          <h1 id="card-name" className="card-name">
            {user.displayName}
          </h1>
          <p className="card-title">
            {[user.title, user.department].filter(Boolean).join(' · ') || '\u00a0'}
          </p>
        </div>
      </header>
      {error && <Banner tone="error">{error}</Banner>}
      <dl className="card-facts">
        <div>
          <dt>Presence</dt>
          <dd>
            <PresenceBadge availability={availability} activity={p?.activity} />
            {until && <span className="muted"> {until}</span>}
          </dd>
        </div>
        <div>
          <dt>Note</dt>
          <dd>{p?.note?.text ?? <span className="muted">No note</span>}</dd>
        </div>
        {p?.outOfOffice && (
          <div>
            <dt>Out of office</dt>
            <dd>{p.outOfOffice.message}</dd>
          </div>
        )}
        <div>
          <dt>Local time</dt>
          <dd>
            {timeZone ? (
              <>
                {now.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', timeZone })}{' '}
                <span className="muted">({timeZone.replace(/_/g, ' ')})</span>
              </>
            ) : (
              <span className="muted">Unknown</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Title</dt>
          <dd>{user.title ?? <span className="muted">None</span>}</dd>
        </div>
        <div>
          <dt>Department</dt>
          <dd>{user.department ?? <span className="muted">None</span>}</dd>
        </div>
        <div>
          <dt>Email</dt>
          <dd>
            <a href={`mailto:${user.address}`}>{user.address}</a>
          </dd>
        </div>
      </dl>
      <div className="card-actions">
        {cardActions.map((a, i) => (
          <span key={i}>{a(user)}</span>
        ))}
        {contact ? (
          <>
            <Button
              busy={busy}
              aria-pressed={contact.favourite}
              onClick={() => void act(() => store.put(user.id, { favourite: !contact.favourite }))}
            >
              {contact.favourite ? 'Remove from favourites' : 'Add to favourites'}
            </Button>
            <SelectField
              label="Group"
              className="field-inline"
              value={contact.groupId ?? ''}
              options={[
                { value: '', label: 'Contacts' },
                ...groups.map((g) => ({ value: g.id, label: g.name })),
              ]}
              onChange={(e) => void act(() => store.put(user.id, { groupId: e.target.value || null }))}
            />
            <Button
              variant="danger"
              busy={busy}
              onClick={() =>
                void act(async () => {
                  await store.remove(user.id);
                  navigate('/');
                })
              }
            >
              Remove contact
            </Button>
          </>
        ) : (
          <Button variant="primary" busy={busy} onClick={() => void act(() => store.put(user.id))}>
            Add to contacts
          </Button>
        )}
      </div>
    </article>
  );
}
