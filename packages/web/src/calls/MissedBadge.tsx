/** The unseen missed-call count beside "Calls" in the navigation (nothing when there are none). */
import { useClient } from '../session/use-session.ts';
import { callStoreOf, useCalls } from './call-store.ts';

export function MissedBadge() {
  const { unseenMissed } = useCalls(callStoreOf(useClient()));
  if (unseenMissed === 0) return null;
  return (
    <span className="nav-badge">
      <span aria-hidden="true">{unseenMissed > 99 ? '99+' : unseenMissed}</span>
      <span className="visually-hidden">
        {' '}
        ({unseenMissed} missed {unseenMissed === 1 ? 'call' : 'calls'})
      </span>
    </span>
  );
}
