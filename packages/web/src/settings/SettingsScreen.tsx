/**
 * The user's settings at `/settings`: for now the devices calls use (microphone, camera, speaker, kept in
 * this browser) and "Test my audio" beside them, which calls Parley Echo with the devices just chosen, so
 * a user can check them before an important call.
 */
import { DeviceFields } from '../calls/DeviceFields.tsx';
import { setDevicePrefs, useDevicePrefs } from '../calls/device-prefs.ts';
import { TestAudioButton } from '../calls/TestAudioButton.tsx';
import '../calls/calls.css';

export default function SettingsScreen() {
  const prefs = useDevicePrefs();
  return (
    <section className="pane settings" aria-labelledby="settings-title">
      <div className="pane-header">
        <h1 id="settings-title" className="pane-title">
          Settings
        </h1>
      </div>
      <section className="settings-group" aria-labelledby="settings-devices">
        <h2 id="settings-devices" className="section-title">
          Audio and video
        </h2>
        <p className="muted small">The devices your calls use in this browser.</p>
        <div className="form">
          <DeviceFields open value={prefs} onChange={setDevicePrefs} />
        </div>
        <div className="device-test">
          <TestAudioButton explain />
          <p className="muted small">Calls Parley Echo: speak after the beep, then hear yourself back.</p>
        </div>
      </section>
    </section>
  );
}
