/** Operator: the whole platform's audit log. */
import { useCallback } from 'react';
import { useClient } from '../session/use-session.ts';
import { Screen } from '../console/Screen.tsx';
import { AuditLogView } from '../console/AuditLogView.tsx';
import '../console/console.css';

export default function OperatorAuditScreen() {
  const client = useClient();
  const load = useCallback((cursor?: string) => client.operator.audit({ limit: 100, cursor }), [client]);
  return (
    <Screen title="Operator audit log">
      <AuditLogView load={load} showTenant />
    </Screen>
  );
}
