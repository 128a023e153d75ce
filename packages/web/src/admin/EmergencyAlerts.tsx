/**
 * Emergency call alerts for tenant admins, on every screen: when a user of the organisation calls an
 * emergency number the server sends each admin an `emergency.call` event at once (the same moment the
 * e-mail goes); it shows here, under the header, until dismissed: who called which number, when, from
 * where. Kept in the tab's memory only (the event log and the e-mail are the record).
 */
import { useEffect, useState } from 'react';
import { Banner, Button } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';

interface Alert {
  seq: number;
  text: string;
  callback: string | null;
}

export function EmergencyAlerts() {
  const client = useClient();
  const [alerts, setAlerts] = useState<Alert[]>([]);
  useEffect(
    () =>
      client.on('event', (e) => {
        if (e.kind !== 'emergency.call') return;
        const d = e.data as { text?: unknown; callback?: unknown };
        const alert = {
          seq: e.seq,
          text: typeof d.text === 'string' ? d.text : 'Someone called an emergency number.',
          callback: typeof d.callback === 'string' ? d.callback : null,
        };
        setAlerts((a) => (a.some((x) => x.seq === alert.seq) ? a : [...a, alert].slice(-5)));
      }),
    [client],
  );
  if (alerts.length === 0) return null;
  return (
    <section className="emergency-alerts" aria-label="Emergency call alerts">
      {alerts.map((a) => (
        <Banner
          key={a.seq}
          tone="warning"
          action={
            <Button variant="ghost" onClick={() => setAlerts((all) => all.filter((x) => x.seq !== a.seq))}>
              Dismiss
            </Button>
          }
        >
          <strong>Emergency call.</strong> {a.text}
          {a.callback && ` Callback number: ${a.callback}.`}
        </Banner>
      ))}
    </section>
  );
}
