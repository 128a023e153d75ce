/**
 * An incoming call on this device: who calls (and whether with video), Answer with audio, Answer with
 * video, Decline. An `alertdialog` that does not trap focus (a call must not take the keyboard from
 * someone typing), announced at once; Answer is the first control in it, so Tab from the page reaches it
 * quickly, and Escape while focus is inside declines. It goes when the call stops ringing here:
 * answered here or elsewhere, declined, cancelled, or not answered in time.
 */
import { useId, useState } from 'react';
import { Button } from '../ui/index.ts';
import { useSessionObject } from '../session/use-session.ts';
import type { WebCall } from './calls-port.ts';
import type { CallStore } from './call-store.ts';
import { mediaErrorSentence, peerName } from './call-text.ts';
import { initials } from '../people/ContactRow.tsx';

export function IncomingCall({ call, store }: { call: WebCall; store: CallStore }) {
  const session = useSessionObject();
  const titleId = useId();
  const descId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const who = peerName(call.view.peer);
  const act = (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    f().then(
      () => setBusy(false),
      (err: unknown) => {
        setBusy(false);
        setError(mediaErrorSentence(err) ?? session.failed(err));
      },
    );
  };
  return (
    <div
      className="incoming-call"
      role="alertdialog"
      aria-modal="false"
      aria-labelledby={titleId}
      aria-describedby={descId}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !busy) act(() => store.decline(call));
      }}
    >
      <span className="avatar avatar-large incoming-avatar" aria-hidden="true">
        {initials(who)}
      </span>
      <div className="incoming-text">
        <h2 id={titleId} className="incoming-title">
          {who}
        </h2>
        <p id={descId} className="incoming-sub">
          {call.view.video ? 'Incoming video call' : 'Incoming call'}
        </p>
      </div>
      <div className="incoming-actions">
        <Button
          variant="primary"
          busy={busy}
          aria-label={`Answer with audio, call from ${who}`}
          onClick={() => act(() => store.answer(call, false))}
        >
          Answer with audio
        </Button>
        <Button
          variant="primary"
          busy={busy}
          aria-label={`Answer with video, call from ${who}`}
          onClick={() => act(() => store.answer(call, true))}
        >
          Answer with video
        </Button>
        <Button
          variant="danger"
          busy={busy}
          aria-label={`Decline, call from ${who}`}
          onClick={() => act(() => store.decline(call))}
        >
          Decline
        </Button>
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
