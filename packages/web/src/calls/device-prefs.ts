/**
 * The microphone, camera and speaker this browser uses for calls, chosen in Settings or in a call's
 * device picker, and remembered (localStorage) so the next call, and the echo test, use them too. A
 * remembered device that is no longer plugged in is ignored rather than failing the call: the SDK asks
 * for a chosen device exactly, and the system default is the better answer than no call.
 */
import { useSyncExternalStore } from 'react';

export interface DevicePrefs {
  /** `deviceId`s; '' is the system default. */
  audioInput: string;
  videoInput: string;
  speaker: string;
}

const KEY = 'parley.devices';
const NONE: DevicePrefs = { audioInput: '', videoInput: '', speaker: '' };
const listeners = new Set<() => void>();
let current: DevicePrefs = read();

function read(): DevicePrefs {
  try {
    const raw = typeof localStorage === 'undefined' ? null : localStorage.getItem(KEY);
    const v = raw ? (JSON.parse(raw) as Partial<DevicePrefs>) : {};
    const s = (x: unknown) => (typeof x === 'string' ? x : '');
    return { audioInput: s(v.audioInput), videoInput: s(v.videoInput), speaker: s(v.speaker) };
  } catch {
    return NONE;
  }
}

export function devicePrefs(): DevicePrefs {
  return current;
}

export function setDevicePrefs(change: Partial<DevicePrefs>): void {
  current = { ...current, ...change };
  try {
    localStorage.setItem(KEY, JSON.stringify(current));
  } catch {
    // Private mode or a full quota: the choice still holds for this page.
  }
  for (const l of listeners) l();
}

export function useDevicePrefs(): DevicePrefs {
  return useSyncExternalStore((l) => {
    listeners.add(l);
    return () => listeners.delete(l);
  }, devicePrefs);
}

/** The remembered microphone and camera that are present now, for placing or answering a call. */
export async function presentDevices(): Promise<{ audioInput?: string; videoInput?: string }> {
  const p = current;
  if ((!p.audioInput && !p.videoInput) || !navigator.mediaDevices) return {};
  const list = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  const has = (kind: MediaDeviceKind, id: string) => list.some((d) => d.kind === kind && d.deviceId === id);
  return {
    ...(p.audioInput && has('audioinput', p.audioInput) ? { audioInput: p.audioInput } : {}),
    ...(p.videoInput && has('videoinput', p.videoInput) ? { videoInput: p.videoInput } : {}),
  };
}
