/**
 * The chat screens: the conversation list at `/chat`, a conversation at `/chat/:conversationId`; and
 * a "Chat" button on every contact card.
 */
import { createElement, lazy } from 'react';
import type { AppRoute } from '../app/route-types.ts';
import { cardActions } from '../people/ContactCard.tsx';
import { ChatWithButton } from './ChatWithButton.tsx';

const ChatScreen = lazy(() => import('./ChatScreen.tsx'));

cardActions.push((user) => createElement(ChatWithButton, { user }));

export const chatRoutes: AppRoute[] = [
  {
    path: '/chat',
    title: 'Chat',
    access: 'user',
    nav: { label: 'Chat', section: 'user', order: 20 },
    component: ChatScreen,
  },
  { path: '/chat/:conversationId', title: 'Chat', access: 'user', component: ChatScreen },
];
