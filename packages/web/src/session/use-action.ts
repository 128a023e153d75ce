/**
 * `useAction()`: the busy flag and error sentence of a button or form that calls the server. `run(f)`
 * clears the error, marks busy, awaits `f`, and on failure keeps the error's sentence (a 401 returns the
 * app to sign-in); it resolves to whether `f` succeeded.
 *
 * ```tsx
 * const save = useAction();
 * <form onSubmit={(e) => { e.preventDefault(); void save.run(() => api.save(x)).then((ok) => ok && close()); }}>
 *   {save.error && <Banner tone="error">{save.error}</Banner>}
 *   <Button type="submit" busy={save.busy}>Save</Button>
 * ```
 */
import { useCallback, useState } from 'react';
import { useSessionObject } from './use-session.ts';

export interface Action {
  busy: boolean;
  error: string | null;
  run(f: () => Promise<unknown>): Promise<boolean>;
  setError(sentence: string | null): void;
}

export function useAction(): Action {
  const session = useSessionObject();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(
    async (f: () => Promise<unknown>) => {
      setBusy(true);
      setError(null);
      try {
        await f();
        return true;
      } catch (err) {
        setError(session.failed(err));
        return false;
      } finally {
        setBusy(false);
      }
    },
    [session],
  );
  return { busy, error, run, setError };
}
