/**
 * One contact in the list: name, presence (colour and text, fixed width so a change never moves the
 * row), title, and the note when set. The whole row is a link to the contact card. Re-renders only
 * when this contact's presence changes.
 */
import { memo } from 'react';
import type { User } from '@parley/protocol';
import { Link } from '../router/router.tsx';
import { PresenceBadge } from '../ui/index.ts';
import { usePresence } from './use-presence.ts';

export const ContactRow = memo(function ContactRow({ user, favourite }: { user: User; favourite: boolean }) {
  const p = usePresence(user.id);
  const availability = p?.availability ?? 'offline';
  return (
    <li className="contact-row">
      <Link to={`/people/${encodeURIComponent(user.id)}`} className="contact-link">
        <span className="avatar" aria-hidden="true">
          {initials(user.displayName)}
        </span>
        <span className="contact-main">
          <span className="contact-name">
            {user.displayName}
            {favourite && (
              <span className="fav-mark" title="Favourite">
                <span aria-hidden="true"> ★</span>
                <span className="visually-hidden"> (favourite)</span>
              </span>
            )}
          </span>
          <span className="contact-sub">{p?.note?.text ?? user.title ?? user.address}</span>
        </span>
        <span className="contact-presence" data-availability={availability}>
          <PresenceBadge availability={availability} activity={p?.activity} compact />
        </span>
      </Link>
    </li>
  );
});

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0]?.[0] ?? '?';
  const last = parts.length > 1 ? parts[parts.length - 1]![0]! : '';
  return (first + last).toUpperCase();
}
