/**
 * One line on the admin and operator screens when the server sends no mail (no PARLEY_SMTP_URL), so
 * nobody waits for an e-mail notice that will not come. Says nothing while loading, when mail is on,
 * or when the question fails (the screen's own content reports its failures).
 */
import { useEffect, useState } from 'react';
import { Banner } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';

export function MailOffBanner({ as }: { as: 'admin' | 'operator' }) {
  const client = useClient();
  const [state, setState] = useState<{ configured: boolean; lastError?: { message: string } }>();
  useEffect(() => {
    let live = true;
    (as === 'operator' ? client.operator.mailStatus() : client.admin.mailStatus()).then(
      (s) => live && setState(s),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [client, as]);
  if (!state) return null;
  if (!state.configured)
    return (
      <Banner tone="warning">Mail is off: this server sends no e-mail (PARLEY_SMTP_URL is not set).</Banner>
    );
  if (state.lastError) return <Banner tone="warning">The last mail failed: {state.lastError.message}</Banner>;
  return null;
}
