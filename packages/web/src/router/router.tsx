/**
 * A small history router: paths like `/people/:id` matched against `location.pathname`, `navigate()`
 * pushing history entries, and `<Link>` for in-app anchors (a real `<a href>`, so middle-click, copy
 * link and screen readers work; a plain click is handled without a page load). Enough for this app;
 * no dependency to keep in step with React.
 */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const listeners = new Set<() => void>();
let current = typeof location === 'undefined' ? '/' : location.pathname + location.search;

function changed(): void {
  current = location.pathname + location.search;
  for (const l of listeners) l();
}
if (typeof window !== 'undefined') window.addEventListener('popstate', changed);

/** Goes to an app path (`replace`: without a new history entry, as after sign-in). */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === current) return;
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  changed();
  // A new screen starts at its top, as a page load would.
  window.scrollTo(0, 0);
}

/** The current path and query string, re-rendering on change. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const full = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => current,
  );
  const q = full.indexOf('?');
  return {
    path: q < 0 ? full : full.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : full.slice(q)),
  };
}

/** The parameters of `pattern` in `path` (`/people/:id` and `/people/u1` give `{id: 'u1'}`), or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  const rest = p[p.length - 1] === '*';
  if (rest ? s.length < p.length - 1 : s.length !== p.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const part = p[i]!;
    if (part === '*') {
      params['*'] = s.slice(i).map(decodeURIComponent).join('/');
      break;
    }
    if (part.startsWith(':')) {
      try {
        params[part.slice(1)] = decodeURIComponent(s[i]!);
      } catch {
        return null;
      }
    } else if (part !== s[i]) return null;
  }
  return params;
}

export interface LinkProps extends AnchorHTMLAttributes<HTMLAnchorElement> {
  to: string;
}

/** An in-app link; `aria-current="page"` when it points at the current screen. */
export function Link({ to, onClick, ...rest }: LinkProps) {
  const { path } = useLocation();
  const click = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  const here = path === to || (to !== '/' && path.startsWith(`${to}/`));
  return <a href={to} onClick={click} aria-current={here ? 'page' : undefined} {...rest} />;
}
