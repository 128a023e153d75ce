/**
 * "Test my audio": calls Parley Echo (the server's echo test, packages/server/src/calls/echo.ts), which
 * plays a prompt, records a few seconds and plays them back, so a user hears their own microphone through
 * their own speakers before an important call. The in-call view shows the call like any other.
 */
import { useState } from 'react';
import { Button } from '../ui/index.ts';
import { useClient, useSessionObject } from '../session/use-session.ts';
import { callStoreOf, useCalls } from './call-store.ts';
import { mediaErrorSentence } from './call-text.ts';

/** The echo's reserved user id, the same in every tenant. */
export const ECHO_USER_ID = 'parley-echo';

export function TestAudioButton() {
  const client = useClient();
  const session = useSessionObject();
  const store = callStoreOf(client);
  const calls = useCalls(store);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inCall = calls.current !== null;
  const test = () => {
    setBusy(true);
    setError(null);
    store.place({ userId: ECHO_USER_ID }, false).then(
      () => setBusy(false),
      (err: unknown) => {
        setBusy(false);
        setError(mediaErrorSentence(err) ?? session.failed(err));
      },
    );
  };
  return (
    <span className="call-buttons">
      <Button
        variant="secondary"
        busy={busy}
        disabled={inCall}
        title={inCall ? 'You are already in a call' : 'Calls Parley Echo: speak, then hear yourself back'}
        onClick={test}
      >
        Test my audio
      </Button>
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
