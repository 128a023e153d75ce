/**
 * Operator: tenants' top-up requests, pending first. Approving credits the amount once (the request's
 * approval carries an Idempotency-Key); declining moves nothing.
 */
import { useState } from 'react';
import type { TopUpRequestView } from '@parley/protocol';
import { Banner, Button, SelectField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import { formatAmount, formatTime } from '../console/format.ts';
import { stateLabels } from '../admin/TopUpRequestsScreen.tsx';
import '../console/console.css';

export default function ApprovalsScreen() {
  const client = useClient();
  const [state, setState] = useState<'pending' | 'all'>('pending');
  const data = useLoad(async () => {
    const [requests, tenants] = await Promise.all([
      client.operator.topUpRequests({ ...(state === 'pending' ? { state } : {}), limit: 200 }),
      client.operator.tenants(),
    ]);
    return { requests: requests.items, tenants: tenants.items };
  }, [client, state]);
  const act = useAction();
  const [keys] = useState(() => new Map<string, string>());
  const keyOf = (r: TopUpRequestView) => {
    if (!keys.has(r.id)) keys.set(r.id, crypto.randomUUID());
    return keys.get(r.id)!;
  };
  return (
    <Screen title="Top-up approvals">
      <SelectField
        label="Show"
        value={state}
        onChange={(e) => setState(e.target.value as 'pending' | 'all')}
        options={[
          { value: 'pending', label: 'Waiting for approval' },
          { value: 'all', label: 'All requests' },
        ]}
      />
      {act.error && <Banner tone="error">{act.error}</Banner>}
      <LoadedView
        loaded={data}
        what="top-up requests"
        isEmpty={(d) => d.requests.length === 0}
        ready={(d) => {
          const tenant = (id: string) => d.tenants.find((t) => t.id === id)?.name ?? id;
          return (
            <Table
              caption="Top-up requests"
              rows={d.requests}
              rowKey={(r) => r.id}
              columns={[
                { header: 'Tenant', cell: (r) => tenant(r.tenantId) },
                { header: 'Asked', cell: (r) => formatTime(r.requestedAt) },
                { header: 'Amount', cell: (r) => formatAmount(r.amount), numeric: true },
                { header: 'Note', cell: (r) => r.note ?? '—' },
                {
                  header: 'Decision',
                  cell: (r) =>
                    r.state === 'pending' ? (
                      <div className="row-actions">
                        <Button
                          variant="primary"
                          aria-label={`Approve ${formatAmount(r.amount)} for ${tenant(r.tenantId)}`}
                          busy={act.busy}
                          onClick={() =>
                            void act
                              .run(() => client.operator.approveTopUp(r.id, undefined, keyOf(r)))
                              .then((ok) => ok && data.reload())
                          }
                        >
                          Approve
                        </Button>
                        <Button
                          aria-label={`Decline ${formatAmount(r.amount)} for ${tenant(r.tenantId)}`}
                          busy={act.busy}
                          onClick={() =>
                            void act
                              .run(() => client.operator.declineTopUp(r.id))
                              .then((ok) => ok && data.reload())
                          }
                        >
                          Decline
                        </Button>
                      </div>
                    ) : (
                      stateLabels[r.state]
                    ),
                },
              ]}
            />
          );
        }}
      />
    </Screen>
  );
}
