/** `usePresence(userId)`: a watched user's presence in any screen (chat headers use it too). */
import { useClient } from '../session/use-session.ts';
import { presenceStoreOf, usePresenceOf } from './presence-store.ts';
import type { Presence } from '@parley/protocol';

export function usePresence(userId: string): Presence | undefined {
  return usePresenceOf(presenceStoreOf(useClient()), userId);
}
