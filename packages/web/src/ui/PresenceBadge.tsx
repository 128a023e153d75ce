/**
 * A user's availability as colour and text together (never colour alone). The dot and the label keep a
 * fixed size whatever the state, so a presence change never moves the layout around it.
 */
import type { Availability } from '@parley/protocol';

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

export function PresenceBadge({ availability, compact }: { availability: Availability; compact?: boolean }) {
  return (
    <span className={`presence${compact ? ' presence-compact' : ''}`}>
      <PresenceDot availability={availability} />
      <span className="presence-text">{availabilityLabels[availability]}</span>
    </span>
  );
}
