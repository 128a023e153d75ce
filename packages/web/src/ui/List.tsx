/** A labelled list of rows (contacts, conversations, users): `<ul>` with an accessible name. */
import type { ReactNode } from 'react';

export interface ListProps {
  /** The list's accessible name (say "Favourites"). */
  label: string;
  children: ReactNode;
  className?: string;
}

export function List({ label, children, className }: ListProps) {
  return (
    <ul className={`list${className ? ` ${className}` : ''}`} aria-label={label}>
      {children}
    </ul>
  );
}

export function ListItem({ children, className }: { children: ReactNode; className?: string }) {
  return <li className={`list-item${className ? ` ${className}` : ''}`}>{children}</li>;
}
