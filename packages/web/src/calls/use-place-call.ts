/**
 * Placing a call from a button: whether this device is already in a call, whether the placing is under
 * way, and the refusal to show beside the button (no microphone, another tenant) as a sentence. Shared by
 * the call buttons and "Test my audio".
 */
import { useState } from 'react';
import type { CallTarget } from '@parley/protocol';
import { useClient, useSessionObject } from '../session/use-session.ts';
import { callStoreOf, useCalls } from './call-store.ts';
import { creditRefusal, mediaErrorSentence } from './call-text.ts';
import type { WebCall } from './calls-port.ts';

export interface PlaceCall {
  inCall: boolean;
  /** The call in progress on this device. */
  current: WebCall | null;
  busy: boolean;
  error: string | null;
  /** Places the call; with `instead`, hangs that call up first (the echo test started again). */
  place(to: CallTarget, video: boolean, instead?: WebCall): void;
}

export function usePlaceCall(): PlaceCall {
  const client = useClient();
  const session = useSessionObject();
  const store = callStoreOf(client);
  const calls = useCalls(store);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const place = (to: CallTarget, video: boolean, instead?: WebCall) => {
    setBusy(true);
    setError(null);
    const placed = instead
      ? store.hangup(instead).then(() => store.place(to, video))
      : store.place(to, video);
    placed.then(
      () => setBusy(false),
      (err: unknown) => {
        setBusy(false);
        setError(mediaErrorSentence(err) ?? creditRefusal(err) ?? session.failed(err));
      },
    );
  };
  return { inCall: calls.current !== null, current: calls.current, busy, error, place };
}
