/**
 * The user's own corner of the header: their presence (colour and text), a button that opens
 * "Set your status", and Sign out.
 */
import { useState } from 'react';
import type { User } from '@parley/protocol';
import { Button, PresenceBadge } from '../ui/index.ts';
import { useSessionObject } from '../session/use-session.ts';
import { usePresence } from './use-presence.ts';
import { StatusDialog } from './StatusDialog.tsx';

export function MeMenu({ user }: { user: User }) {
  const session = useSessionObject();
  const presence = usePresence(user.id);
  const [open, setOpen] = useState(false);
  return (
    <div className="me">
      <Button variant="ghost" className="me-status" onClick={() => setOpen(true)} aria-haspopup="dialog">
        <span className="visually-hidden">Set your status: </span>
        <span className="me-name">{user.displayName}</span>
        {presence ? (
          <PresenceBadge availability={presence.availability} activity={presence.activity} compact />
        ) : null}
      </Button>
      <Button variant="ghost" onClick={() => void session.signOut()}>
        Sign out
      </Button>
      <StatusDialog open={open} onClose={() => setOpen(false)} />
    </div>
  );
}
