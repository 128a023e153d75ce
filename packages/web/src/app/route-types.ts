/**
 * What a screen declares to be reachable: its path, who may open it, its place in the navigation.
 * Each area (people, chat, admin, operator) exports an `AppRoute[]` from its own `routes.ts`;
 * `app/routes.ts` puts them together.
 */
import type { ComponentType } from 'react';

/** Who may open a screen: any signed-in user, a tenant admin, or the operator account. */
export type RouteAccess = 'user' | 'admin' | 'operator';

export interface AppRoute {
  /** `/chat/:conversationId`; `:name` parts arrive in `params`; a trailing `*` matches the rest. */
  path: string;
  /** The screen's name in the title bar. */
  title: string;
  access: RouteAccess;
  /** Shown in the navigation when given; `section` groups it (user client, Admin, Operator). */
  /** `badge` renders beside the label (a count such as unseen missed calls; nothing when zero). */
  nav?: { label: string; section: RouteAccess; order: number; icon?: string; badge?: ComponentType };
  /** The screen (use `lazy(() => import(...))` for anything large: it keeps the first screen small). */
  component: ComponentType<{ params: Record<string, string> }>;
}

/**
 * The route maker of one access section (admin, operator): a route is shown in that section's
 * navigation at `order` under its title, or reachable only by link when `order` is null (a detail screen).
 */
export function sectionRoute(access: Exclude<RouteAccess, 'user'>) {
  return (path: string, title: string, order: number | null, component: AppRoute['component']): AppRoute => ({
    path,
    title,
    access,
    ...(order === null ? {} : { nav: { label: title, section: access, order } }),
    component,
  });
}
