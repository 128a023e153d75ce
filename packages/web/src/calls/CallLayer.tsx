/**
 * The calls' part of every signed-in screen: incoming calls ringing on this device, the call in
 * progress, and a polite notice when a call ends ("Bob Baker did not answer."). Mounted once by the
 * shell, so a call survives moving between screens. Also where `tel:` links open the dial pad.
 */
import { useEffect } from 'react';
import { Button } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { callStoreOf, useCalls } from './call-store.ts';
import { IncomingCall } from './IncomingCall.tsx';
import { InCallView } from './InCallView.tsx';
import { useTelLinks } from './tel-links.ts';
import './calls.css';

const NOTICE_MS = 8_000;

export function CallLayer() {
  const store = callStoreOf(useClient());
  const calls = useCalls(store);
  const notice = calls.notice;
  useTelLinks();
  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => store.clearNotice(notice.id), NOTICE_MS);
    return () => clearTimeout(t);
  }, [store, notice]);
  return (
    <>
      {calls.ringing.length > 0 && (
        <div className="incoming-calls">
          {calls.ringing.map((c) => (
            <IncomingCall key={c.id} call={c} store={store} />
          ))}
        </div>
      )}
      {calls.current && <InCallView key={calls.current.id} call={calls.current} store={store} />}
      <div className="call-notice-slot" role="status">
        {notice && (
          <p className="call-notice">
            <span>{notice.text}</span>
            <Button variant="ghost" aria-label="Dismiss" onClick={() => store.clearNotice(notice.id)}>
              <span aria-hidden="true">×</span>
            </Button>
          </p>
        )}
      </div>
    </>
  );
}
