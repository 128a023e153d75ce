/**
 * The call in progress on this device: the other party's video (their initials while they show none)
 * with yours in a corner, who it is, the state ("Calling…", "Ringing…") or the time since the answer,
 * the network-quality indicator, and the controls: mute, camera on or off, devices, hang up. A labelled
 * region at the bottom of the window (the whole window at phone width) so the rest of the app stays
 * usable beside it: a colleague can open a chat during a call.
 */
import { useEffect, useRef, useState } from 'react';
import { Banner, Button } from '../ui/index.ts';
import { useSessionObject } from '../session/use-session.ts';
import { initials } from '../people/ContactRow.tsx';
import type { CallQuality, WebCall } from './calls-port.ts';
import type { CallStore } from './call-store.ts';
import { clock, mediaErrorSentence, peerName, qualityLabels, spokenDuration } from './call-text.ts';
import { DevicePicker } from './DevicePicker.tsx';
import { Keypad } from './Keypad.tsx';
import { useDevicePrefs } from './device-prefs.ts';

const QUALITY_EVERY_MS = 2_000;

/** Seconds since the answer, ticking once a second while connected. */
function useElapsed(answeredAt: string | null): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!answeredAt) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [answeredAt]);
  return answeredAt ? Math.max(0, (now - Date.parse(answeredAt)) / 1000) : null;
}

function useQuality(call: WebCall, connected: boolean): CallQuality | null {
  const [q, setQ] = useState<CallQuality | null>(null);
  useEffect(() => {
    if (!connected) return;
    let live = true;
    const read = () =>
      call.quality().then(
        (r) => live && setQ(r),
        () => live && setQ(null),
      );
    void read();
    const t = setInterval(read, QUALITY_EVERY_MS);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [call, connected]);
  return q;
}

/** Whether a stream shows live video now (a track that is not muted: the far end may stop sending). */
function useShowsVideo(stream: MediaStream | null): boolean {
  const [, bump] = useState(0);
  useEffect(() => {
    if (!stream) return;
    const changed = () => bump((n) => n + 1);
    const watch = (t: MediaStreamTrack) => {
      t.addEventListener('mute', changed);
      t.addEventListener('unmute', changed);
      t.addEventListener('ended', changed);
    };
    stream.getTracks().forEach(watch);
    const added = (e: MediaStreamTrackEvent) => {
      watch(e.track);
      changed();
    };
    stream.addEventListener('addtrack', added);
    stream.addEventListener('removetrack', changed);
    return () => {
      stream.removeEventListener('addtrack', added);
      stream.removeEventListener('removetrack', changed);
      stream.getTracks().forEach((t) => {
        t.removeEventListener('mute', changed);
        t.removeEventListener('unmute', changed);
        t.removeEventListener('ended', changed);
      });
    };
  }, [stream]);
  return !!stream?.getVideoTracks().some((t) => t.readyState === 'live' && !t.muted && t.enabled);
}

/** A `<video>` showing `stream` (srcObject cannot be set as an attribute). */
function StreamVideo({
  stream,
  muted,
  label,
  className,
  sinkId,
}: {
  stream: MediaStream | null;
  muted?: boolean;
  label: string;
  className: string;
  sinkId?: string;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const v = ref.current;
    if (v && v.srcObject !== stream) v.srcObject = stream;
  }, [stream]);
  useEffect(() => {
    const v = ref.current as (HTMLVideoElement & { setSinkId?(id: string): Promise<void> }) | null;
    if (v && sinkId !== undefined && v.setSinkId) void v.setSinkId(sinkId).catch(() => {});
  }, [sinkId]);
  return <video ref={ref} className={className} autoPlay playsInline muted={muted} aria-label={label} />;
}

export function InCallView({ call, store }: { call: WebCall; store: CallStore }) {
  const session = useSessionObject();
  const v = call.view;
  const who = peerName(v.peer);
  const connected = v.state === 'connected';
  // The server's answer time; the moment this device saw the answer when the view does not carry it.
  const seenConnected = useRef<string | null>(null);
  if (connected && !seenConnected.current) seenConnected.current = new Date().toISOString();
  const elapsed = useElapsed(connected ? (v.answeredAt ?? seenConnected.current) : null);
  const quality = useQuality(call, connected);
  const remoteVideo = useShowsVideo(call.remoteStream);
  const localVideo = useShowsVideo(call.localStream);
  const [devicesOpen, setDevicesOpen] = useState(false);
  const { speaker } = useDevicePrefs();
  const [error, setError] = useState<string | null>(null);
  const [hangingUp, setHangingUp] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);

  // Answering removes the incoming panel and the button that had the focus with it: the keyboard then
  // continues in the call rather than at the top of the page.
  useEffect(() => {
    if (document.activeElement === document.body || document.activeElement === null) heading.current?.focus();
  }, []);

  const run = (f: () => Promise<void> | void) => {
    setError(null);
    Promise.resolve()
      .then(f)
      .catch((err: unknown) => setError(mediaErrorSentence(err) ?? session.failed(err)));
  };
  const state =
    v.state === 'dialing'
      ? 'Calling…'
      : v.state === 'ringing'
        ? 'Ringing…'
        : v.state === 'connected'
          ? 'Connected'
          : 'Ending…';
  const level = quality?.level ?? 'unknown';

  return (
    <section className={`call-view${remoteVideo ? ' has-video' : ''}`} aria-label={`Call with ${who}`}>
      <div className="call-stage">
        <StreamVideo
          stream={call.remoteStream}
          label={`Video from ${who}`}
          className={`remote-video${remoteVideo ? '' : ' is-off'}`}
          sinkId={speaker}
        />
        {!remoteVideo && (
          <span className="avatar avatar-large call-avatar" aria-hidden="true">
            {initials(who)}
          </span>
        )}
        <StreamVideo
          stream={call.localStream}
          muted
          label="Your camera"
          className={`local-video${localVideo ? '' : ' is-off'}`}
        />
      </div>
      <div className="call-bar">
        <div className="call-info">
          <h2 className="call-peer" ref={heading} tabIndex={-1}>
            {who}
          </h2>
          <p className="call-state">
            <span>{state}</span>
            {elapsed !== null && (
              <>
                {' · '}
                <span role="timer" className="call-timer" aria-label={`Call time ${spokenDuration(elapsed)}`}>
                  {clock(elapsed)}
                </span>
              </>
            )}
          </p>
          {connected && (
            <p className="call-quality" data-level={level}>
              <span className="quality-bars" aria-hidden="true">
                <span />
                <span />
                <span />
              </span>
              <span className="quality-text">{qualityLabels[level]}</span>
              {quality?.roundTripTime != null && (
                <span className="muted small"> · {Math.round(quality.roundTripTime * 1000)} ms</span>
              )}
            </p>
          )}
        </div>
        <div className="call-controls" role="group" aria-label="Call controls">
          <Button aria-pressed={call.muted} onClick={() => run(() => call.setMuted(!call.muted))}>
            Mute
          </Button>
          <Button onClick={() => run(() => call.setCamera(!call.camera))}>
            {call.camera ? 'Turn camera off' : 'Turn camera on'}
          </Button>
          <Button aria-haspopup="dialog" onClick={() => setDevicesOpen(true)}>
            Devices
          </Button>
          <Button
            variant="danger"
            busy={hangingUp}
            onClick={() => {
              setHangingUp(true);
              run(() => store.hangup(call).finally(() => setHangingUp(false)));
            }}
          >
            Hang up
          </Button>
        </div>
      </div>
      {connected && <Keypad call={call} onError={(err) => setError(session.failed(err))} />}
      {error && <Banner tone="error">{error}</Banner>}
      <DevicePicker open={devicesOpen} onClose={() => setDevicesOpen(false)} call={call} />
    </section>
  );
}
