/**
 * Call history at `/calls`: every call of the user, newest first (incoming, outgoing, missed; when;
 * how long), with Call and Video call buttons to call back, a Missed filter, and older pages on request.
 * Opening it while the tab is visible marks the missed calls seen, which clears the badge on every
 * device (the server keeps the count). It reloads when a call ends or is missed. Phone calls (to or from
 * a number, through a carrier) show the number and call it back by number, and those the user placed
 * show their price and why once rated; the dial pad opens from here.
 * An on-net call (a number a user of this server owns: no carrier, free) says so beside its kind.
 */
import { TestAudioButton } from './TestAudioButton.tsx';
import { useEffect, useState } from 'react';
import type { CallHistoryEntry } from '@parley/protocol';
import { Banner, Button, EmptyState, Loading } from '../ui/index.ts';
import { useClient, useSessionObject } from '../session/use-session.ts';
import { shortTime } from '../chat/format.ts';
import { formatTime } from '../console/format.ts';
import { callStoreOf, useCalls } from './call-store.ts';
import { clock, dispositionLabels, missedReason, peerName, spokenDuration } from './call-text.ts';
import { CallButtons } from './CallButtons.tsx';
import { NumberCallButton } from './NumberCallButton.tsx';
import { CallPriceLine } from './CallPriceLine.tsx';
import { Link } from '../router/router.tsx';
import './calls.css';

const PAGE = 50;

type Filter = 'all' | 'missed';

function directionLabel(e: CallHistoryEntry): string {
  // A party known only by number is on the phone network: a phone call (never video).
  if (e.peer.userId === null && e.peer.number) {
    if (e.direction === 'outgoing') return 'Outgoing phone call';
    return e.disposition === 'missed' ? 'Missed phone call' : 'Incoming phone call';
  }
  if (e.direction === 'outgoing') return e.video ? 'Outgoing video call' : 'Outgoing call';
  if (e.disposition === 'missed') return e.video ? 'Missed video call' : 'Missed call';
  return e.video ? 'Incoming video call' : 'Incoming call';
}

function HistoryRow({ e }: { e: CallHistoryEntry }) {
  const who = peerName(e.peer);
  const missed = e.direction === 'incoming' && e.disposition === 'missed';
  const answered = e.disposition === 'answered';
  return (
    <li className={`history-row${missed ? ' is-missed' : ''}`}>
      <span className="history-kind" data-direction={e.direction}>
        <span className="history-arrow" aria-hidden="true">
          {e.direction === 'outgoing' ? '↗' : missed ? '↙✕' : '↙'}
        </span>
        <span className="history-kind-text">
          {directionLabel(e)}
          {/* Dialled by a number a user of this server owns: connected here, no carrier, no charge. */}
          {e.onNet && ' (on-net, free)'}
        </span>
      </span>
      <span className="history-main">
        <span className="history-peer">
          {who}
          {missed && !e.seen && (
            <span className="history-new">
              <span aria-hidden="true"> •</span>
              <span className="visually-hidden"> (new)</span>
            </span>
          )}
        </span>
        <time className="history-time muted" dateTime={e.startedAt} title={formatTime(e.startedAt)}>
          {shortTime(e.startedAt)}
        </time>
        {e.price && <CallPriceLine price={e.price} />}
      </span>
      <span className="history-outcome">
        {answered ? (
          e.endedAt === null ? (
            <span>In progress</span>
          ) : (
            <span className="history-duration" aria-label={`Duration ${spokenDuration(e.durationSeconds)}`}>
              {clock(e.durationSeconds)}
            </span>
          )
        ) : (
          <span className={missed ? 'history-missed' : 'muted'}>
            {missed ? missedReason(e.endReason) : dispositionLabels[e.disposition]}
          </span>
        )}
      </span>
      <span className="history-actions">
        {e.peer.userId ? (
          <CallButtons userId={e.peer.userId} name={who} compact />
        ) : (
          e.peer.number && <NumberCallButton number={e.peer.number} />
        )}
      </span>
    </li>
  );
}

export default function CallHistoryScreen() {
  const store = callStoreOf(useClient());
  const session = useSessionObject();
  const { historyVersion, unseenMissed } = useCalls(store);
  const [filter, setFilter] = useState<Filter>('all');
  const [calls, setCalls] = useState<CallHistoryEntry[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);

  // The newest page, again whenever the history changed (a call ended or was missed).
  useEffect(() => {
    let live = true;
    store.history({ limit: PAGE, filter }).then(
      (p) => {
        if (!live) return;
        setCalls(p.calls);
        setNext(p.next);
        setError(null);
      },
      (err: unknown) => live && setError(session.failed(err)),
    );
    return () => {
      live = false;
    };
  }, [store, session, filter, historyVersion]);

  // Seen means looked at: while this screen is shown in a visible tab.
  useEffect(() => {
    const mark = () => {
      if (document.visibilityState === 'visible') void store.markSeen().catch(() => {});
    };
    if (unseenMissed > 0) mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  }, [store, unseenMissed]);

  const older = () => {
    if (!next) return;
    setLoadingOlder(true);
    store.history({ limit: PAGE, filter, before: next }).then(
      (p) => {
        setCalls((have) => [...(have ?? []), ...p.calls]);
        setNext(p.next);
        setLoadingOlder(false);
      },
      (err: unknown) => {
        setError(session.failed(err));
        setLoadingOlder(false);
      },
    );
  };

  return (
    <section className="pane call-history" aria-labelledby="calls-title">
      <div className="pane-header">
        <h1 id="calls-title" className="pane-title">
          Calls
        </h1>
        <TestAudioButton />
        <Link to="/calls/dial" className="btn btn-secondary">
          Dial pad
        </Link>
        <div className="pane-actions" role="group" aria-label="Show">
          {(['all', 'missed'] as const).map((f) => (
            <Button
              key={f}
              variant={filter === f ? 'primary' : 'ghost'}
              aria-pressed={filter === f}
              onClick={() => {
                setCalls(null);
                setFilter(f);
              }}
            >
              {f === 'all' ? 'All calls' : 'Missed'}
            </Button>
          ))}
        </div>
      </div>
      {error && <Banner tone="error">{error}</Banner>}
      {calls === null && !error && <Loading label="Loading your calls…" />}
      {calls !== null &&
        (calls.length === 0 ? (
          <EmptyState title={filter === 'missed' ? 'No missed calls' : 'No calls yet'}>
            <p>
              Call a colleague from their contact card or from a chat, or a phone number from the dial pad.
            </p>
          </EmptyState>
        ) : (
          <>
            <ol className="history-list" aria-label="Call history">
              {calls.map((e) => (
                <HistoryRow key={e.callId} e={e} />
              ))}
            </ol>
            {next && (
              <Button variant="ghost" busy={loadingOlder} onClick={older}>
                Show older calls
              </Button>
            )}
          </>
        ))}
    </section>
  );
}
