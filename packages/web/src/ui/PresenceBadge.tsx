/**
 * A user's availability as colour and text together (never colour alone). The dot and the label keep a
 * fixed size whatever the state, so a presence change never moves the layout around it.
 */
import type { Activity, Availability } from '@parley/protocol';

export const availabilityLabels: Record<Availability, string> = {
  available: 'Available',
  busy: 'Busy',
  do_not_disturb: 'Do not disturb',
  be_right_back: 'Be right back',
  away: 'Away',
  offline: 'Offline',
};

export function PresenceDot({ availability }: { availability: Availability }) {
  return <span className={`presence-dot presence-${availability}`} aria-hidden="true" />;
}

/**
 * What an activity shows instead of the availability it implies (In a call is Busy, Presenting is Do
 * not disturb); a stronger availability chosen by hand (Do not disturb over a call) keeps its own label.
 */
const activityLabels: Partial<Record<Activity, { implies: Availability; label: string }>> = {
  in_a_call: { implies: 'busy', label: 'In a call' },
  in_a_meeting: { implies: 'busy', label: 'In a meeting' },
  presenting: { implies: 'do_not_disturb', label: 'Presenting' },
};

/** The words for a presence: the activity's when it explains the availability, else the availability's. */
export function presenceLabel(availability: Availability, activity: Activity = 'none'): string {
  const a = activityLabels[activity];
  return a && a.implies === availability ? a.label : availabilityLabels[availability];
}

export function PresenceBadge({
  availability,
  activity,
  compact,
}: {
  availability: Availability;
  activity?: Activity;
  compact?: boolean;
}) {
  return (
    <span className={`presence${compact ? ' presence-compact' : ''}`}>
      <PresenceDot availability={availability} />
      <span className="presence-text">{presenceLabel(availability, activity)}</span>
    </span>
  );
}
