/**
 * Parley Echo in everyone's contact list (the "Built in" section): who it is, what it is for, and a Call
 * button, so the sound test is one click from the first screen. It is no directory user (no card, no
 * presence to watch), so the row is not a link as the other rows are.
 */
import { initials } from '../people/ContactRow.tsx';
import { Button } from '../ui/index.ts';
import { ECHO_NAME, ECHO_USER_ID } from './TestAudioButton.tsx';
import { usePlaceCall } from './use-place-call.ts';

export function EchoContactRow() {
  const { inCall, busy, error, place } = usePlaceCall();
  return (
    <li className="contact-row">
      <div className="contact-link contact-static">
        <span className="avatar" aria-hidden="true">
          {initials(ECHO_NAME)}
        </span>
        <span className="contact-main">
          <span className="contact-name">{ECHO_NAME}</span>
          <span className="contact-sub">{error ?? 'Sound test: speak, then hear yourself back'}</span>
        </span>
        <Button
          variant="secondary"
          busy={busy}
          disabled={inCall}
          aria-label={`Call ${ECHO_NAME}`}
          title={inCall ? 'You are already in a call' : undefined}
          onClick={() => place({ userId: ECHO_USER_ID }, false)}
        >
          Call
        </Button>
      </div>
    </li>
  );
}
