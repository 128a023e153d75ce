/**
 * Calls for React: the calls ringing on this device, the call in progress here, the unseen missed-call
 * count (the badge) and a version that moves whenever the history changed, as an external store. It
 * also rings (the WebAudio ringtone while anything rings here), shows a desktop notification for an
 * incoming call while the tab is hidden, and puts missed calls in the title badge.
 *
 * One call at a time is in progress on a device (the in-call view); others may still ring meanwhile
 * (answering one of those hangs up the current call first, as a phone's "end and answer" does).
 */
import { useSyncExternalStore } from 'react';
import type { ParleyClient } from '@parley/sdk';
import type { CallTarget } from '@parley/protocol';
import { attention } from '../notify/attention.ts';
import { Ringtone } from './ringtone.ts';
import { callsPortOf, type CallsPort, type WebCall } from './calls-port.ts';
import { endedSentence, peerName } from './call-text.ts';
import { installTestHook } from './test-hooks.ts';
import { presentDevices } from './device-prefs.ts';

export interface CallsSnapshot {
  /** Calls ringing on this device, oldest first. */
  ringing: WebCall[];
  /** The call placed or answered on this device and not over. */
  current: WebCall | null;
  /** Missed calls not yet seen (the badge). */
  unseenMissed: number;
  /** Moves when a call ended or was missed: a shown history reloads. */
  historyVersion: number;
  /** The last call's ending, said once ("Bob Baker did not answer."). */
  notice: { id: number; text: string } | null;
}

export class CallStore {
  private snap: CallsSnapshot = {
    ringing: [],
    current: null,
    unseenMissed: 0,
    historyVersion: 0,
    notice: null,
  };
  private readonly listeners = new Set<() => void>();
  private readonly ringtone = new Ringtone();
  private readonly badge = attention.badge('calls');
  private readonly port: CallsPort;
  private readonly watched = new Map<string, () => void>();
  private noticeSeq = 0;

  constructor(private readonly client: ParleyClient) {
    this.port = callsPortOf(client);
    this.port.onIncoming((call) => this.ring(call));
    client.on('event', (e) => {
      if (e.kind === 'call.missed' || e.kind === 'call.ended') void this.refreshCount();
    });
    // After a reconnection whose missed events were not replayed, the count is asked again.
    client.on('welcome', () => void this.refreshCount());
    installTestHook(() => this.snap.current, this.ringtone);
    // A closed tab's socket ends with "going away", which the server cannot tell from a network loss:
    // without this the other side would hear silence for PARLEY_CALL_LOST_GRACE. A page kept in the
    // back-forward cache (`persisted`) keeps its call; ringing calls simply stop ringing here.
    if (typeof window !== 'undefined')
      window.addEventListener('pagehide', (e) => {
        if (!e.persisted) void this.snap.current?.hangup().catch(() => {});
      });
  }

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  getSnapshot = (): CallsSnapshot => this.snap;

  /**
   * Calls someone from this device (the in-call view shows it at once, "Calling…"), with the devices
   * chosen in Settings when they are plugged in.
   */
  async place(to: CallTarget, video: boolean): Promise<void> {
    if (this.snap.current) throw new Error('You are already in a call. Hang up first.');
    const call = await this.port.place(to, { video, devices: await presentDevices() });
    this.follow(call);
    this.set({ current: call });
    // The answer may be the call already over (the callee is offline, busy or in Do not disturb), and
    // no update follows it: say so now rather than wait for an end that has already happened.
    if (call.view.state === 'ended') this.ended(call);
  }

  async answer(call: WebCall, video: boolean): Promise<void> {
    const previous = this.snap.current;
    if (previous && previous !== call) await previous.hangup().catch(() => {});
    await call.setDevices(await presentDevices());
    await call.answer({ video });
    this.set({ ringing: this.snap.ringing.filter((c) => c !== call), current: call });
    this.updateRinging();
  }

  async decline(call: WebCall): Promise<void> {
    await call.decline();
    this.drop(call);
  }

  async hangup(call: WebCall): Promise<void> {
    await call.hangup();
    this.drop(call);
  }

  /** Marks missed calls seen (the history screen does when shown); the badge follows. */
  async markSeen(): Promise<void> {
    if (this.snap.unseenMissed === 0) return;
    const unseenMissed = await this.port.markSeen();
    this.setCount(unseenMissed);
    // A shown history reloads, so its rows stop marking those calls as new.
    this.set({ historyVersion: this.snap.historyVersion + 1 });
  }

  history(q: Parameters<CallsPort['history']>[0]) {
    return this.port.history(q).then((page) => {
      this.setCount(page.unseenMissed);
      return page;
    });
  }

  /** Asks the server for the badge count (at start and after call events). */
  async refreshCount(): Promise<void> {
    try {
      const page = await this.port.history({ limit: 1 });
      this.setCount(page.unseenMissed);
    } catch {
      // The next event or reconnection asks again; the badge keeps its last count meanwhile.
    }
    this.set({ historyVersion: this.snap.historyVersion + 1 });
  }

  private setCount(unseenMissed: number): void {
    this.badge.set(unseenMissed);
    if (unseenMissed !== this.snap.unseenMissed) this.set({ unseenMissed });
  }

  private ring(call: WebCall): void {
    if (call.view.state === 'ended' || this.snap.ringing.includes(call)) return;
    this.follow(call);
    this.set({ ringing: [...this.snap.ringing, call] });
    this.updateRinging();
    const who = peerName(call.view.peer);
    attention.notify({
      title: `${who} is calling`,
      body: call.view.video ? 'Video call: open Parley to answer.' : 'Open Parley to answer.',
      tag: `call:${call.id}`,
    });
  }

  /** Watches a call until it ends: then it leaves the ringing list or the in-call view. */
  private follow(call: WebCall): void {
    if (this.watched.has(call.id)) return;
    const stop = call.onChange(() => {
      if (call.view.state === 'ended') this.ended(call);
      else this.emit();
    });
    this.watched.set(call.id, stop);
  }

  private ended(call: WebCall): void {
    const wasCurrent = this.snap.current === call;
    const wasRinging = this.snap.ringing.includes(call);
    this.drop(call);
    if (wasCurrent || wasRinging) this.say(endedSentence(call.view));
  }

  private drop(call: WebCall): void {
    this.watched.get(call.id)?.();
    this.watched.delete(call.id);
    attention.dismiss(`call:${call.id}`);
    this.set({
      ringing: this.snap.ringing.filter((c) => c !== call),
      current: this.snap.current === call ? null : this.snap.current,
    });
    this.updateRinging();
  }

  private say(text: string): void {
    this.set({ notice: { id: ++this.noticeSeq, text } });
  }

  /** Dismisses the notice (its close button, or a timer in the view). */
  clearNotice(id: number): void {
    if (this.snap.notice?.id === id) this.set({ notice: null });
  }

  private updateRinging(): void {
    if (this.snap.ringing.length > 0) this.ringtone.start();
    else this.ringtone.stop();
  }

  private set(patch: Partial<CallsSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    this.emit();
  }

  /** A call changed inside (media, mute): a new snapshot object, so React reads it again. */
  private emit(): void {
    this.snap = { ...this.snap };
    for (const l of this.listeners) l();
  }
}

const stores = new WeakMap<object, CallStore>();

/** The page's call store for a client (made on first use, which also asks for the badge count). */
export function callStoreOf(client: ParleyClient): CallStore {
  let s = stores.get(client);
  if (!s) {
    stores.set(client, (s = new CallStore(client)));
    void s.refreshCount();
  }
  return s;
}

export function useCalls(store: CallStore): CallsSnapshot {
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}
