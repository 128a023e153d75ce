/** Tenant admin: the organisation's audit log. */
import { useCallback } from 'react';
import { useClient } from '../session/use-session.ts';
import { Screen } from '../console/Screen.tsx';
import { AuditLogView } from '../console/AuditLogView.tsx';
import '../console/console.css';

export default function AuditScreen() {
  const client = useClient();
  const load = useCallback((cursor?: string) => client.admin.audit({ limit: 100, cursor }), [client]);
  return (
    <Screen title="Audit log">
      <AuditLogView load={load} />
    </Screen>
  );
}
