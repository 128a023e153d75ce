/** Tenant admin: ask the service provider for credit, and follow the requests and their decisions. */
import { useState } from 'react';
import type { TopUpRequestView } from '@parley/protocol';
import { Banner, Button, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import { formatAmount, formatTime } from '../console/format.ts';
import '../console/console.css';

export const stateLabels: Record<TopUpRequestView['state'], string> = {
  pending: 'Waiting for approval',
  approved: 'Approved',
  declined: 'Declined',
};

export default function TopUpRequestsScreen() {
  const client = useClient();
  const requests = useLoad(() => client.admin.topUpRequests({ limit: 100 }), [client]);
  const [amount, setAmount] = useState('');
  const [note, setNote] = useState('');
  const ask = useAction();
  const [sent, setSent] = useState(false);
  return (
    <Screen title="Top-up requests">
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          setSent(false);
          void ask
            .run(() => client.admin.requestTopUp(amount.trim(), note.trim() || undefined))
            .then((ok) => {
              if (!ok) return;
              setAmount('');
              setNote('');
              setSent(true);
              requests.reload();
            });
        }}
      >
        {ask.error && <Banner tone="error">{ask.error}</Banner>}
        {sent && (
          <Banner tone="success">Your request is sent. Nothing moves until the provider approves it.</Banner>
        )}
        <TextField
          label="Amount"
          required
          inputMode="decimal"
          placeholder="25.00"
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
        />
        <TextField label="Note for the provider" value={note} onChange={(e) => setNote(e.target.value)} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={ask.busy}>
            Ask for credit
          </Button>
        </div>
      </form>
      <LoadedView
        loaded={requests}
        what="top-up requests"
        isEmpty={(d) => d.items.length === 0}
        ready={(d) => (
          <Table
            caption="Top-up requests"
            rows={d.items}
            rowKey={(r) => r.id}
            columns={[
              { header: 'Asked', cell: (r) => formatTime(r.requestedAt) },
              { header: 'Amount', cell: (r) => formatAmount(r.amount), numeric: true },
              { header: 'Note', cell: (r) => r.note ?? '—' },
              { header: 'State', cell: (r) => stateLabels[r.state] },
              {
                header: 'Decision',
                cell: (r) =>
                  r.decidedAt
                    ? `${formatTime(r.decidedAt)}${r.decisionNote ? `: ${r.decisionNote}` : ''}`
                    : '—',
              },
            ]}
          />
        )}
      />
    </Screen>
  );
}
