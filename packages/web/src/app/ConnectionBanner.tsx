/**
 * The reconnect banner: shown while the realtime link is down after having been open (the SDK retries
 * with backoff and resumes by itself); gone, without fuss, once it is back. A first connection that
 * takes a moment shows nothing: the screens have their own loading states.
 */
import { useSession } from '../session/use-session.ts';
import { Banner } from '../ui/index.ts';

export function ConnectionBanner() {
  const { connection, wasOpen, session } = useSession();
  if (session.status !== 'signed-in' || !wasOpen || connection === 'open') return null;
  return (
    <Banner tone="warning" className="connection-banner">
      Connection lost. Reconnecting… Changes you make will be sent when it is back.
    </Banner>
  );
}
