/**
 * "Test my audio": calls Parley Echo (the server's echo test, packages/server/src/calls/echo.ts), which
 * plays a prompt, records a few seconds and plays them back, so a user hears their own microphone through
 * their own speakers before an important call. The in-call view shows the call like any other. During
 * the echo call it reads "Test again" (after picking another microphone, say); during a call with someone
 * else it cannot be used, and `explain` says so in words beside it (the device picker), not only in a
 * tooltip.
 */
import { Button } from '../ui/index.ts';
import { usePlaceCall } from './use-place-call.ts';

/** The echo's reserved user id, the same in every tenant. */
export const ECHO_USER_ID = 'parley-echo';
export const ECHO_NAME = 'Parley Echo';

export function TestAudioButton({ explain }: { explain?: boolean }) {
  const { current, busy, error, place } = usePlaceCall();
  const testing = current?.view.peer.userId === ECHO_USER_ID;
  const elsewhere = current !== null && !testing;
  return (
    <span className="call-buttons">
      <Button
        variant="secondary"
        busy={busy}
        disabled={elsewhere}
        title={elsewhere ? 'You are already in a call' : `Calls ${ECHO_NAME}: speak, then hear yourself back`}
        onClick={() => place({ userId: ECHO_USER_ID }, false, testing ? current : undefined)}
      >
        {testing ? 'Test again' : 'Test my audio'}
      </Button>
      {elsewhere && explain && (
        <span className="muted small">You can test your audio with {ECHO_NAME} after this call.</span>
      )}
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
