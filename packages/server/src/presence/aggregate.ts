/**
 * Presence aggregation: one user's presence from all their devices and their own settings. Pure, so the
 * rules are tested without sockets, and every node computes the same answer from the same inputs.
 *
 * The rules (what a Teams user expects):
 * 1. Priority, highest first: Do not disturb > Busy (and In a call / In a meeting) > Be right back >
 *    Away > Available > Offline. Across devices the highest wins: presenting on the laptop makes the
 *    user Do not disturb even while the phone is Available.
 * 2. Activity implies availability: presenting is Do not disturb; in a call or in a meeting is Busy. The
 *    user's activity is the highest device activity (presenting > in a meeting > in a call > none).
 * 3. Idle makes a device Away, but idle is the absence of input, not a choice: if any other device is
 *    active (not idle), the idle one does not drag the user to Away. A device that *reports* Away or Be
 *    right back counts by the priority above.
 * 4. A manual availability (with an optional expiry) replaces the devices' own availability, idle
 *    included ("Available" set by hand stays Available while idle), but activities still win over it
 *    when higher: a user set to Available who joins a call shows Busy; set to Do not disturb stays so.
 * 5. Appear offline shows Offline with no activity, whatever the devices do. The status note and
 *    out-of-office message stay visible (people still need to know you are on leave).
 * 6. No devices: Offline (the presence service applies a grace period before a departed device counts
 *    as gone). A manual state does not make a user with no devices look online.
 * 7. Expired settings count as absent; the caller re-aggregates at `nextExpiry`.
 * 8. The server may set an activity for the user as a whole (`serverActivity`: In a call while any of
 *    their calls is connected, whichever device carries it): it counts like one more device's activity,
 *    so it shows on every device, still yields to a higher device activity, and needs a device online.
 */
import type { Activity, Availability } from '@parley/protocol';
import type { DevicePresenceState, UserPresenceSettings } from './presence-state.ts';

/** Higher is more "do not bother me". */
export const availabilityRank: Record<Availability, number> = {
  offline: 0,
  available: 1,
  away: 2,
  be_right_back: 3,
  busy: 4,
  do_not_disturb: 5,
};

const activityRank: Record<Activity, number> = { none: 0, in_a_call: 1, in_a_meeting: 2, presenting: 3 };

const activityAvailability: Record<Activity, Availability | null> = {
  none: null,
  in_a_call: 'busy',
  in_a_meeting: 'busy',
  presenting: 'do_not_disturb',
};

const higher = (a: Availability, b: Availability): Availability =>
  availabilityRank[b] > availabilityRank[a] ? b : a;

export interface Aggregate {
  availability: Availability;
  activity: Activity;
  /** The manual availability's expiry when one is in force (ms), else null. */
  manualUntil: number | null;
  note: { text: string; until: number | null } | null;
  outOfOffice: { message: string; until: number | null } | null;
  /** The earliest instant a setting in force expires (ms), or null. */
  nextExpiry: number | null;
}

const live = <T extends { until: number | null }>(x: T | null, now: number): T | null =>
  x && (x.until === null || x.until > now) ? x : null;

export function aggregate(
  devices: Iterable<DevicePresenceState>,
  settings: UserPresenceSettings,
  now: number,
  serverActivity: Activity = 'none',
): Aggregate {
  const manual = live(settings.manual, now);
  const note = live(settings.note, now);
  const outOfOffice = live(settings.outOfOffice, now);
  let nextExpiry: number | null = null;
  for (const x of [manual, note, outOfOffice])
    if (x?.until != null && (nextExpiry === null || x.until < nextExpiry)) nextExpiry = x.until;

  let count = 0;
  let activity: Activity = serverActivity;
  let fromActivity: Availability = activityAvailability[serverActivity] ?? 'offline';
  let active: Availability = 'offline'; // highest among non-idle devices
  let anyActive = false;
  for (const d of devices) {
    count++;
    if (activityRank[d.activity] > activityRank[activity]) activity = d.activity;
    const implied = activityAvailability[d.activity];
    if (implied) fromActivity = higher(fromActivity, implied);
    if (!d.idle) {
      anyActive = true;
      active = higher(active, d.availability);
    } else if (d.availability !== 'available') {
      // An idle device still counts for what it reports beyond Available (Busy, Do not disturb, ...).
      active = higher(active, d.availability);
    }
  }

  let availability: Availability;
  if (count === 0) {
    availability = 'offline';
    activity = 'none';
  } else if (manual?.availability === 'appear_offline') {
    availability = 'offline';
    activity = 'none';
  } else if (manual) {
    availability = higher(manual.availability, fromActivity);
  } else {
    let devicesAvail = active;
    if (!anyActive)
      devicesAvail = higher(devicesAvail, 'away'); // every device idle
    else if (devicesAvail === 'offline') devicesAvail = 'available';
    availability = higher(devicesAvail, fromActivity);
  }
  return {
    availability,
    activity,
    manualUntil: count > 0 && manual ? manual.until : null,
    note,
    outOfOffice,
    nextExpiry,
  };
}
