/** Every screen of the app, from each area's own route list. */
import type { AppRoute, RouteAccess } from './route-types.ts';
import type { Role } from '@parley/protocol';
import { peopleRoutes } from '../people/routes.ts';
import { chatRoutes } from '../chat/routes.ts';
import { callRoutes } from '../calls/routes.ts';
import { settingsRoutes } from '../settings/routes.ts';
import { adminRoutes } from '../admin/routes.ts';
import { operatorRoutes } from '../operator/routes.ts';

export const routes: AppRoute[] = [
  ...peopleRoutes,
  ...chatRoutes,
  ...callRoutes,
  ...settingsRoutes,
  ...adminRoutes,
  ...operatorRoutes,
];

/** Whether a user of `role` may open a screen of `access` (the user client is everyone's). */
export function mayOpen(role: Role, access: RouteAccess): boolean {
  return access === 'user' || role === access;
}
