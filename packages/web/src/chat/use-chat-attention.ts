/**
 * Keeps chat's part of the title badge (and desktop notifications) alive on every signed-in screen,
 * not only while the chat screen is open: the store loads the conversation list once and follows it.
 */
import { useEffect } from 'react';
import { useClient } from '../session/use-session.ts';
import { chatStoreOf } from './chat-store.ts';

export function useChatAttention(): void {
  const client = useClient();
  useEffect(() => {
    void chatStoreOf(client).loadList();
  }, [client]);
}
