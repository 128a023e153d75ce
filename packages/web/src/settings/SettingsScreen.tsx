/**
 * The user's settings at `/settings`: for now the devices calls use (microphone, camera, speaker, kept in
 * this browser) and "Test my audio" beside them, which calls Parley Echo with the devices just chosen, so
 * a user can check them before an important call; and their own phone number (their caller ID), with
 * whether calls out withhold it.
 */
import { DeviceFields } from '../calls/DeviceFields.tsx';
import { setDevicePrefs, useDevicePrefs } from '../calls/device-prefs.ts';
import { TestAudioButton } from '../calls/TestAudioButton.tsx';
import { MyNumber } from '../calls/MyNumber.tsx';
import { WithholdNumber } from '../calls/WithholdNumber.tsx';
import { useLoad } from '../console/use-load.ts';
import { useClient } from '../session/use-session.ts';
import '../calls/calls.css';
import '../calls/dial-pad.css';

export default function SettingsScreen() {
  const prefs = useDevicePrefs();
  const client = useClient();
  const mine = useLoad(() => client.telephony.myNumber(), [client]);
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
      <section className="settings-group" aria-labelledby="settings-number">
        <h2 id="settings-number" className="section-title">
          Phone number
        </h2>
        <MyNumber mine={mine} />
        <p className="muted small">
          Calls to your number ring all your devices; people you call on the phone network see it.
        </p>
        <WithholdNumber />
      </section>
    </section>
  );
}
