/**
 * Choosing the microphone, the camera and (where the browser can route sound, `setSinkId`) the speaker
 * for the call in progress. The lists come from `enumerateDevices` (their names are shown once the page
 * may use the devices, which it may during a call) and follow devices plugged in or out meanwhile.
 */
import { useEffect, useState } from 'react';
import { Banner, Dialog, SelectField } from '../ui/index.ts';
import type { WebCall } from './calls-port.ts';
import { mediaErrorSentence } from './call-text.ts';

/** Whether this browser can choose where a media element plays (Chromium, Firefox; not Safari). */
export const canPickSpeaker =
  typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

function useDevices(open: boolean): MediaDeviceInfo[] {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    if (!open || !navigator.mediaDevices) return;
    let live = true;
    const load = () =>
      navigator.mediaDevices.enumerateDevices().then(
        (d) => live && setDevices(d),
        () => live && setDevices([]),
      );
    void load();
    navigator.mediaDevices.addEventListener('devicechange', load);
    return () => {
      live = false;
      navigator.mediaDevices.removeEventListener('devicechange', load);
    };
  }, [open]);
  return devices;
}

/** The device a stream's track of `kind` uses, '' when none or unknown. */
function inUse(stream: MediaStream | null, kind: 'audio' | 'video'): string {
  const track = stream?.getTracks().find((t) => t.kind === kind);
  return track?.getSettings().deviceId ?? '';
}

export function DevicePicker({
  open,
  onClose,
  call,
  speaker,
  onSpeaker,
}: {
  open: boolean;
  onClose: () => void;
  call: WebCall;
  /** The chosen speaker's device id ('' for the system default). */
  speaker: string;
  onSpeaker: (deviceId: string) => void;
}) {
  const devices = useDevices(open);
  const [error, setError] = useState<string | null>(null);
  const options = (kind: MediaDeviceKind, none: string) => {
    const list = devices.filter((d) => d.kind === kind && d.deviceId);
    if (list.length === 0) return [{ value: '', label: none }];
    return list.map((d, i) => ({ value: d.deviceId, label: d.label || `${none.split(' ')[0]} ${i + 1}` }));
  };
  const change = (d: { audioInput?: string; videoInput?: string }) => {
    setError(null);
    call
      .setDevices(d)
      .catch((err: unknown) => setError(mediaErrorSentence(err) ?? 'That device could not be used.'));
  };
  return (
    <Dialog open={open} title="Call devices" onClose={onClose}>
      {error && <Banner tone="error">{error}</Banner>}
      <SelectField
        label="Microphone"
        value={inUse(call.localStream, 'audio')}
        options={options('audioinput', 'No microphone found')}
        onChange={(e) => change({ audioInput: e.target.value })}
      />
      <SelectField
        label="Camera"
        value={inUse(call.localStream, 'video')}
        options={options('videoinput', 'No camera found')}
        onChange={(e) => change({ videoInput: e.target.value })}
      />
      {canPickSpeaker && (
        <SelectField
          label="Speaker"
          value={speaker}
          options={[
            { value: '', label: 'System default' },
            ...options('audiooutput', 'Speaker').filter((o) => o.value !== 'default'),
          ]}
          onChange={(e) => onSpeaker(e.target.value)}
        />
      )}
    </Dialog>
  );
}
