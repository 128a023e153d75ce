/**
 * The microphone, camera and speaker choices (the call's device picker and Settings share them). The
 * lists come from `enumerateDevices` and follow devices plugged in or out meanwhile. Until the page may
 * use the devices the browser lists them without ids or names; then a button asks for the microphone
 * and camera once (and stops them at once) so the lists can be filled.
 */
import { useCallback, useEffect, useState } from 'react';
import { Button, SelectField } from '../ui/index.ts';
import type { DevicePrefs } from './device-prefs.ts';

/** Whether this browser can choose where a media element plays (Chromium, Firefox; not Safari). */
export const canPickSpeaker =
  typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

function useDevices(open: boolean): { devices: MediaDeviceInfo[]; reload: () => void } {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  const [version, setVersion] = useState(0);
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
  }, [open, version]);
  return { devices, reload: useCallback(() => setVersion((v) => v + 1), []) };
}

export function DeviceFields({
  open,
  value,
  onChange,
  camera = true,
}: {
  /** Lists are read while open (a closed dialog does not follow device changes). */
  open: boolean;
  value: DevicePrefs;
  onChange: (change: Partial<DevicePrefs>) => void;
  camera?: boolean;
}) {
  const { devices, reload } = useDevices(open);
  const [asking, setAsking] = useState(false);
  const hidden = devices.some((d) => d.kind !== 'audiooutput' && !d.deviceId);
  const options = (kind: MediaDeviceKind, none: string, fallback: string) => {
    const list = devices.filter((d) => d.kind === kind && d.deviceId && d.deviceId !== 'default');
    if (list.length === 0) return [{ value: '', label: none }];
    return [
      { value: '', label: 'System default' },
      ...list.map((d, i) => ({ value: d.deviceId, label: d.label || `${fallback} ${i + 1}` })),
    ];
  };
  const allow = () => {
    setAsking(true);
    navigator.mediaDevices
      .getUserMedia({ audio: true, video: camera })
      .then((s) => s.getTracks().forEach((t) => t.stop()))
      .catch(() => {})
      .finally(() => {
        setAsking(false);
        reload();
      });
  };
  return (
    <>
      {hidden && (
        <p className="device-hint">
          Your browser lists your devices once Parley may use them.{' '}
          <Button variant="secondary" busy={asking} onClick={allow}>
            List my devices
          </Button>
        </p>
      )}
      <SelectField
        label="Microphone"
        value={value.audioInput}
        options={options('audioinput', 'No microphone found', 'Microphone')}
        onChange={(e) => onChange({ audioInput: e.target.value })}
      />
      {camera && (
        <SelectField
          label="Camera"
          value={value.videoInput}
          options={options('videoinput', 'No camera found', 'Camera')}
          onChange={(e) => onChange({ videoInput: e.target.value })}
        />
      )}
      {canPickSpeaker && (
        <SelectField
          label="Speaker"
          value={value.speaker}
          options={[
            { value: '', label: 'System default' },
            ...options('audiooutput', 'Speaker', 'Speaker').slice(1),
          ]}
          onChange={(e) => onChange({ speaker: e.target.value })}
        />
      )}
    </>
  );
}
