/**
 * "Call back" for a party known only by phone number (a phone call in the history): places the call to
 * the number as the server recorded it (E.164). A refusal (no carrier can take it) shows beside it.
 */
import { Button } from '../ui/index.ts';
import { usePlaceCall } from './use-place-call.ts';

export function NumberCallButton({ number }: { number: string }) {
  const { inCall, busy, error, place } = usePlaceCall();
  return (
    <span className="call-buttons call-buttons-compact">
      <Button
        variant="secondary"
        busy={busy}
        disabled={inCall}
        aria-label={`Call ${number}`}
        title={inCall ? 'You are already in a call' : undefined}
        onClick={() => place({ number }, false)}
      >
        Call
      </Button>
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
