/**
 * React access to the page's session: `useSession()` for the state, `useClient()` for the SDK client,
 * `useSignedInUser()` inside signed-in screens. The session is provided once at the root.
 */
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { ParleyClient } from '@parley/sdk';
import type { User } from '@parley/protocol';
import type { Session, SessionSnapshot } from './session.ts';

export const SessionContext = createContext<Session | null>(null);

export function useSessionObject(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside <SessionContext.Provider>');
  return s;
}

export function useSession(): SessionSnapshot {
  const s = useSessionObject();
  return useSyncExternalStore(s.subscribe, s.getSnapshot);
}

export function useClient(): ParleyClient {
  return useSessionObject().client;
}

/** The signed-in user (only inside the signed-in part of the app). */
export function useSignedInUser(): User {
  const { session } = useSession();
  if (session.status !== 'signed-in') throw new Error('useSignedInUser while signed out');
  return session.user;
}
