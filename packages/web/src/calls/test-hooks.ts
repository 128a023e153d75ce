/**
 * Settings and a window hook that only the browser tests turn on, through localStorage set before the
 * page loads (a user never has them):
 * - `parley.test.iceTransportPolicy = relay`: every call goes through TURN (`iceTransportPolicy`), so
 *   the TURN test proves the relay path rather than whichever path ICE happened to choose;
 * - `parley.test.hooks = 1`: `window.parleyCalls` exposes the current call's peer connection and the
 *   ringtone's state, so a test can read `getStats` in the page as the call runs.
 */
import type { WebCall } from './calls-port.ts';
import type { Ringtone } from './ringtone.ts';

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export const testSettings = {
  get iceTransportPolicy(): RTCIceTransportPolicy | undefined {
    return read('parley.test.iceTransportPolicy') === 'relay' ? 'relay' : undefined;
  },
};

/** What a test reads through `window.parleyCalls`. */
export interface CallsTestHook {
  /** The peer connection of the call in progress on this device (null: none). */
  peerConnection(): RTCPeerConnection | null;
  /** Whether the ringtone is on (a call rings on this device). */
  ringing(): boolean;
}

/** Installs the hook when the tests asked for it. */
export function installTestHook(current: () => WebCall | null, ringtone: Ringtone): void {
  if (read('parley.test.hooks') !== '1') return;
  const hook: CallsTestHook = {
    peerConnection: () => current()?.peerConnection ?? null,
    ringing: () => ringtone.playing,
  };
  (window as unknown as { parleyCalls: CallsTestHook }).parleyCalls = hook;
}
