/**
 * "Test my audio": calls Parley Echo (the server's echo test, packages/server/src/calls/echo.ts), which
 * plays a prompt, records a few seconds and plays them back, so a user hears their own microphone through
 * their own speakers before an important call. The in-call view shows the call like any other.
 */
import { Button } from '../ui/index.ts';
import { usePlaceCall } from './use-place-call.ts';

/** The echo's reserved user id, the same in every tenant. */
export const ECHO_USER_ID = 'parley-echo';

export function TestAudioButton() {
  const { inCall, busy, error, place } = usePlaceCall();
  const test = () => place({ userId: ECHO_USER_ID }, false);
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
