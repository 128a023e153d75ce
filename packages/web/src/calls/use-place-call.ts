/**
 * Placing a call from a button: whether this device is already in a call, whether the placing is under
 * way, and the refusal to show beside the button (no microphone, another tenant) as a sentence. Shared by
 * the call buttons and "Test my audio".
 */
import { useState } from 'react';
import type { CallTarget } from '@parley/protocol';
import { useClient, useSessionObject } from '../session/use-session.ts';
import { callStoreOf, useCalls } from './call-store.ts';
import { mediaErrorSentence } from './call-text.ts';

export interface PlaceCall {
  inCall: boolean;
  busy: boolean;
  error: string | null;
  place(to: CallTarget, video: boolean): void;
}

export function usePlaceCall(): PlaceCall {
  const client = useClient();
  const session = useSessionObject();
  const store = callStoreOf(client);
  const calls = useCalls(store);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const place = (to: CallTarget, video: boolean) => {
    setBusy(true);
    setError(null);
    store.place(to, video).then(
      () => setBusy(false),
      (err: unknown) => {
        setBusy(false);
        setError(mediaErrorSentence(err) ?? session.failed(err));
      },
    );
  };
  return { inCall: calls.current !== null, busy, error, place };
}
