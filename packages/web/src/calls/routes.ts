/**
 * The calls area: the history at `/calls` (in the navigation, with the missed-call badge) and its dial
 * pad at `/calls/dial` (phone numbers; `tel:` links open it), Call / Video
 * call buttons on every contact card, and Parley Echo among everyone's contacts. The incoming-call panel
 * and the in-call view are the shell's (`CallLayer`), on every screen.
 */
import { createElement, lazy } from 'react';
import type { AppRoute } from '../app/route-types.ts';
import { cardActions } from '../people/ContactCard.tsx';
import { builtInContacts } from '../people/ContactList.tsx';
import { EchoContactRow } from './EchoContactRow.tsx';
import { ECHO_NAME } from './TestAudioButton.tsx';
import { CallButtons } from './CallButtons.tsx';
import { MissedBadge } from './MissedBadge.tsx';

const CallHistoryScreen = lazy(() => import('./CallHistoryScreen.tsx'));
const DialPadScreen = lazy(() => import('./DialPadScreen.tsx'));

cardActions.push((user) => createElement(CallButtons, { userId: user.id, name: user.displayName }));
builtInContacts.push({ name: ECHO_NAME, row: () => createElement(EchoContactRow) });

export const callRoutes: AppRoute[] = [
  {
    path: '/calls',
    title: 'Calls',
    access: 'user',
    nav: { label: 'Calls', section: 'user', order: 30, badge: MissedBadge },
    component: CallHistoryScreen,
  },
  { path: '/calls/dial', title: 'Dial pad', access: 'user', component: DialPadScreen },
];
