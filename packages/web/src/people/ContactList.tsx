/**
 * The contact list: Favourites first, then each group in its order, then the default "Contacts"
 * group; each section a labelled list with its count. A filter box narrows by name.
 */
import { useMemo, useState } from 'react';
import type { Contact, ContactGroup } from '@parley/protocol';
import { EmptyState, TextField } from '../ui/index.ts';
import { ContactRow } from './ContactRow.tsx';

interface Section {
  id: string;
  name: string;
  contacts: Contact[];
}

export function sections(contacts: Contact[], groups: ContactGroup[], filter: string): Section[] {
  const f = filter.trim().toLowerCase();
  const shown = (f ? contacts.filter((c) => c.user.displayName.toLowerCase().includes(f)) : contacts)
    .slice()
    .sort((a, b) => a.user.displayName.localeCompare(b.user.displayName));
  const out: Section[] = [
    { id: 'favourites', name: 'Favourites', contacts: shown.filter((c) => c.favourite) },
  ];
  for (const g of [...groups].sort((a, b) => a.position - b.position))
    out.push({ id: g.id, name: g.name, contacts: shown.filter((c) => c.groupId === g.id) });
  const known = new Set(groups.map((g) => g.id));
  out.push({
    id: 'contacts',
    name: 'Contacts',
    contacts: shown.filter((c) => c.groupId === null || !known.has(c.groupId)),
  });
  return out.filter((s) => s.contacts.length > 0 || (s.id !== 'favourites' && !f));
}

export function ContactList({ contacts, groups }: { contacts: Contact[]; groups: ContactGroup[] }) {
  const [filter, setFilter] = useState('');
  const list = useMemo(() => sections(contacts, groups, filter), [contacts, groups, filter]);
  return (
    <div className="contact-list">
      <TextField
        label="Filter contacts"
        type="search"
        className="field-compact"
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
      />
      {list.length === 0 || list.every((s) => s.contacts.length === 0) ? (
        <EmptyState title={filter ? 'No contact matches' : 'No contacts yet'}>
          {!filter && <p>Find people in your organisation with “Add a contact”.</p>}
        </EmptyState>
      ) : (
        list.map((s) => (
          <section key={s.id} className="contact-section" aria-labelledby={`sec-${s.id}`}>
            <h2 id={`sec-${s.id}`} className="section-title">
              {s.name} <span className="count">({s.contacts.length})</span>
            </h2>
            {s.contacts.length ? (
              <ul className="list" aria-labelledby={`sec-${s.id}`}>
                {s.contacts.map((c) => (
                  <ContactRow key={c.userId} user={c.user} favourite={c.favourite} />
                ))}
              </ul>
            ) : (
              <p className="muted small">Nobody in this group yet.</p>
            )}
          </section>
        ))
      )}
    </div>
  );
}
