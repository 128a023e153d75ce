/**
 * "Call" and "Video call" for one person (the contact card, a 1:1 chat's header, the call history's
 * call-back). Pressing one places the call; the in-call view takes over from there. Disabled while this
 * device is already in a call; a refusal (no microphone, another tenant) shows beside the buttons.
 */
import { Button } from '../ui/index.ts';
import { useSignedInUser } from '../session/use-session.ts';
import { usePlaceCall } from './use-place-call.ts';

export function CallButtons({ userId, name, compact }: { userId: string; name: string; compact?: boolean }) {
  const me = useSignedInUser();
  const { inCall, busy, error, place: placeTo } = usePlaceCall();
  if (userId === me.id) return null;
  const place = (video: boolean) => placeTo({ userId }, video);
  return (
    <span className={`call-buttons${compact ? ' call-buttons-compact' : ''}`}>
      <Button
        variant="secondary"
        busy={busy}
        disabled={inCall}
        aria-label={`Call ${name}`}
        title={inCall ? 'You are already in a call' : undefined}
        onClick={() => place(false)}
      >
        Call
      </Button>
      <Button
        variant="secondary"
        busy={busy}
        disabled={inCall}
        aria-label={`Video call ${name}`}
        title={inCall ? 'You are already in a call' : undefined}
        onClick={() => place(true)}
      >
        Video call
      </Button>
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
