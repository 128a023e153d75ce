/**
 * The frame of an admin or operator screen: its heading with the screen's main actions, then the
 * loading, failed, empty or ready content, so every screen says what it is doing.
 */
import type { ReactNode } from 'react';
import { Banner, Button, EmptyState, Loading } from '../ui/index.ts';
import type { Loaded } from './use-load.ts';

export function Screen({
  title,
  actions,
  children,
}: {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section className="console" aria-labelledby="console-title">
      <div className="pane-header">
        <h1 id="console-title" className="pane-title">
          {title}
        </h1>
        {actions && <div className="pane-actions">{actions}</div>}
      </div>
      {children}
    </section>
  );
}

/** Shows `ready(data)` once loaded; a spinner, an error with Try again, or `empty` meanwhile. */
export function LoadedView<T>({
  loaded,
  what,
  isEmpty,
  empty,
  ready,
}: {
  loaded: Loaded<T> & { reload: () => void };
  /** What is loading, for the spinner ("users"). */
  what: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  ready: (data: T) => ReactNode;
}) {
  if (loaded.status === 'loading') return <Loading label={`Loading ${what}…`} />;
  if (loaded.status === 'failed')
    return (
      <Banner tone="error" action={<Button onClick={loaded.reload}>Try again</Button>}>
        {loaded.error}
      </Banner>
    );
  if (isEmpty?.(loaded.data)) return <>{empty ?? <EmptyState title={`No ${what} yet`} />}</>;
  return <>{ready(loaded.data)}</>;
}
