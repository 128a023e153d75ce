/**
 * The signed-in frame: a header with the brand, the navigation (the user client's screens; Admin for
 * tenant admins; Operator for the operator account) and the user's own menu, the connection banner,
 * the current screen, and the calls layer (incoming calls, the call in progress). At narrow widths the
 * navigation becomes a row of tabs below the header.
 */
import { Suspense, createElement, useEffect } from 'react';
import type { User } from '@parley/protocol';
import { Link, matchPath, useLocation } from '../router/router.tsx';
import { mayOpen, routes } from './routes.ts';
import type { AppRoute, RouteAccess } from './route-types.ts';
import { ConnectionBanner } from './ConnectionBanner.tsx';
import { EmptyState, Loading } from '../ui/index.ts';
import { attention } from '../notify/attention.ts';
import { MeMenu } from '../people/MeMenu.tsx';
import { useChatAttention } from '../chat/use-chat-attention.ts';
import { CallLayer } from '../calls/CallLayer.tsx';
import { EmergencyAlerts } from '../admin/EmergencyAlerts.tsx';

const sectionLabels: Record<RouteAccess, string> = { user: 'Parley', admin: 'Admin', operator: 'Operator' };

function findRoute(path: string, user: User): { route: AppRoute; params: Record<string, string> } | null {
  for (const route of routes) {
    if (!mayOpen(user.role, route.access)) continue;
    const params = matchPath(route.path, path);
    if (params) return { route, params };
  }
  return null;
}

export function Shell({ user }: { user: User }) {
  const { path } = useLocation();
  const found = findRoute(path, user);
  const title = found?.route.title ?? 'Not found';
  useEffect(() => attention.setScreenTitle(title), [title]);
  useChatAttention(); // chat's title badge and notifications on every screen

  const navItems = routes
    .filter((r) => r.nav && mayOpen(user.role, r.access))
    .sort((a, b) => a.nav!.order - b.nav!.order);
  const sections = (['user', 'admin', 'operator'] as const)
    .map((s) => ({ section: s, items: navItems.filter((r) => r.nav!.section === s) }))
    .filter((s) => s.items.length > 0);
  const Screen = found?.route.component;

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <span className="brand-name">Parley</span>
        </Link>
        <MeMenu user={user} />
      </header>
      <nav className="nav" aria-label="Main">
        {sections.map((s) => (
          <div className="nav-section" key={s.section}>
            {s.section !== 'user' && <span className="nav-section-label">{sectionLabels[s.section]}</span>}
            <ul>
              {s.items.map((r) => (
                <li key={r.path}>
                  <Link to={r.path.replace(/\/[:*].*$/, '') || '/'} className="nav-link">
                    {r.nav!.label}
                    {r.nav!.badge && createElement(r.nav!.badge)}
                  </Link>
                </li>
              ))}
            </ul>
          </div>
        ))}
      </nav>
      <ConnectionBanner />
      <main className="content" id="main" tabIndex={-1}>
        {user.role === 'admin' && <EmergencyAlerts />}
        <Suspense fallback={<Loading />}>
          {Screen ? (
            <Screen params={found.params} />
          ) : (
            <EmptyState title="There is nothing here">
              <p>
                This address does not lead to a screen you can open. <Link to="/">Go to your contacts</Link>.
              </p>
            </EmptyState>
          )}
        </Suspense>
      </main>
      <CallLayer />
    </div>
  );
}
