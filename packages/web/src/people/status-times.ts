/** The durations "Set your status" offers, as the instant each ends (in the browser's time zone). */

export type StatusDuration = 'until_changed' | 'one_hour' | 'end_of_day';

export const durationOptions: ReadonlyArray<{ value: StatusDuration; label: string }> = [
  { value: 'until_changed', label: 'Until I change it' },
  { value: 'one_hour', label: 'For 1 hour' },
  { value: 'end_of_day', label: 'Until the end of today' },
];

/** When a status chosen at `now` for `d` ends (ISO 8601), or null for "until I change it". */
export function durationEnd(d: StatusDuration, now = new Date()): string | null {
  if (d === 'one_hour') return new Date(now.getTime() + 3_600_000).toISOString();
  if (d === 'end_of_day') {
    const end = new Date(now);
    end.setHours(23, 59, 59, 0);
    // Just before midnight already: the end of today has passed its point, so one hour is the least.
    return new Date(Math.max(end.getTime(), now.getTime() + 60_000)).toISOString();
  }
  return null;
}

/** "until 17:30" or "until tomorrow 09:00" for an expiry, in the viewer's time zone. */
export function untilText(iso: string | null, now = new Date()): string | null {
  if (!iso) return null;
  const t = new Date(iso);
  const time = t.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const sameDay = t.toDateString() === now.toDateString();
  return sameDay ? `until ${time}` : `until ${t.toLocaleDateString([], { weekday: 'short' })} ${time}`;
}
