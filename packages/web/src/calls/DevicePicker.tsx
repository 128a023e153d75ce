/**
 * Choosing the microphone, the camera and (where the browser can route sound, `setSinkId`) the speaker
 * for the call in progress; a choice is also remembered for the next calls (device-prefs.ts). "Test my
 * audio" sits beside the choices: in a call with someone else it says when it can be used, and in the
 * echo test itself it starts the test again with the device just picked.
 */
import { useState } from 'react';
import { Banner, Dialog } from '../ui/index.ts';
import type { WebCall } from './calls-port.ts';
import { mediaErrorSentence } from './call-text.ts';
import { DeviceFields } from './DeviceFields.tsx';
import { setDevicePrefs, useDevicePrefs, type DevicePrefs } from './device-prefs.ts';
import { TestAudioButton } from './TestAudioButton.tsx';

/** The device a stream's track of `kind` uses, '' when none or unknown. */
function inUse(stream: MediaStream | null, kind: 'audio' | 'video'): string {
  const track = stream?.getTracks().find((t) => t.kind === kind);
  return track?.getSettings().deviceId ?? '';
}

export function DevicePicker({ open, onClose, call }: { open: boolean; onClose: () => void; call: WebCall }) {
  const prefs = useDevicePrefs();
  const [error, setError] = useState<string | null>(null);
  const value: DevicePrefs = {
    audioInput: inUse(call.localStream, 'audio') || prefs.audioInput,
    videoInput: inUse(call.localStream, 'video') || prefs.videoInput,
    speaker: prefs.speaker,
  };
  const change = (d: Partial<DevicePrefs>) => {
    setError(null);
    setDevicePrefs(d);
    if (d.speaker !== undefined) return; // the in-call view routes its sound to the remembered speaker
    call
      .setDevices(d)
      .catch((err: unknown) => setError(mediaErrorSentence(err) ?? 'That device could not be used.'));
  };
  return (
    <Dialog open={open} title="Call devices" onClose={onClose}>
      {error && <Banner tone="error">{error}</Banner>}
      <DeviceFields open={open} value={value} onChange={change} />
      <div className="device-test">
        <TestAudioButton explain />
      </div>
    </Dialog>
  );
}
