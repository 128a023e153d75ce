/** The user's settings screen at `/settings` (last in the user client's navigation). */
import { lazy } from 'react';
import type { AppRoute } from '../app/route-types.ts';

const SettingsScreen = lazy(() => import('./SettingsScreen.tsx'));

export const settingsRoutes: AppRoute[] = [
  {
    path: '/settings',
    title: 'Settings',
    access: 'user',
    nav: { label: 'Settings', section: 'user', order: 90 },
    component: SettingsScreen,
  },
];
