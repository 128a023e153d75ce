/**
 * The contact list: Favourites first, then each group in its order, then the default "Contacts"
 * group; each section a labelled list with its count. A filter box narrows by name. Last, the contacts
 * every user has whatever they added ("Built in": Parley Echo), which other areas register in
 * `builtInContacts` (as they add buttons to the contact card), so this list knows nothing of calls.
 */
import { Fragment, useMemo, useState, type ReactNode } from 'react';
import type { Contact, ContactGroup } from '@parley/protocol';
import { EmptyState, TextField } from '../ui/index.ts';
import { ContactRow } from './ContactRow.tsx';

interface Section {
  id: string;
  name: string;
  contacts: Contact[];
}

/** A contact every user has: its name (which the filter matches) and its row (an `<li>`). */
export interface BuiltInContact {
  name: string;
  row: () => ReactNode;
}

export const builtInContacts: BuiltInContact[] = [];

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
  const f = filter.trim().toLowerCase();
  const builtIn = builtInContacts.filter((b) => b.name.toLowerCase().includes(f));
  return (
    <div className="contact-list">
      <TextField
        label="Filter contacts"
        type="search"
        className="field-compact"
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
      />
      {list.every((s) => s.contacts.length === 0) && !(f && builtIn.length) ? (
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
      {builtIn.length > 0 && (
        <section className="contact-section" aria-labelledby="sec-built-in">
          <h2 id="sec-built-in" className="section-title">
            Built in <span className="count">({builtIn.length})</span>
          </h2>
          <ul className="list" aria-labelledby="sec-built-in">
            {builtIn.map((b) => (
              <Fragment key={b.name}>{b.row()}</Fragment>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
