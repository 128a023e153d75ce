/**
 * `useLoad(fetch, deps)`: the loading, failed and ready states of what a screen shows, with `reload()`
 * after a change. A failure keeps its sentence (a 401 returns the app to sign-in).
 */
import { useCallback, useEffect, useState } from 'react';
import { useSessionObject } from '../session/use-session.ts';

export type Loaded<T> =
  | { status: 'loading'; data?: undefined; error?: undefined }
  | { status: 'failed'; error: string; data?: undefined }
  | { status: 'ready'; data: T; error?: undefined };

export function useLoad<T>(fetch: () => Promise<T>, deps: unknown[]): Loaded<T> & { reload: () => void } {
  const session = useSessionObject();
  const [state, setState] = useState<Loaded<T>>({ status: 'loading' });
  const [n, setN] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(fetch, deps);
  useEffect(() => {
    let live = true;
    run().then(
      (data) => live && setState({ status: 'ready', data }),
      (err: unknown) => live && setState({ status: 'failed', error: session.failed(err) }),
    );
    return () => {
      live = false;
    };
  }, [run, n, session]);
  return { ...state, reload: () => setN((x) => x + 1) };
}
