/**
 * Tenant admin: the prepaid wallet (balance, held by running calls, available) and its ledger, newest
 * first, older entries on request. Credit is asked for on the top-up requests screen.
 */
import { useState } from 'react';
import type { LedgerEntry, Wallet } from '@parley/protocol';
import { Banner, Button, EmptyState } from '../ui/index.ts';
import { useAction } from '../session/use-action.ts';
import { useClient } from '../session/use-session.ts';
import { Link } from '../router/router.tsx';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import { formatAmount, formatTime } from '../console/format.ts';
import '../console/console.css';

export const kindLabels: Record<string, string> = {
  top_up: 'Top-up',
  adjustment: 'Adjustment',
  call: 'Call charge',
};

export function WalletStats({ wallet }: { wallet: Wallet }) {
  return (
    <div className="stat-row">
      {(
        [
          ['Balance', wallet.balance],
          ['Held by calls in progress', wallet.held],
          ['Available', wallet.available],
        ] as const
      ).map(([label, v]) => (
        <div className="stat" key={label}>
          <div className="stat-label">{label}</div>
          <div className="stat-value">{formatAmount(v)}</div>
        </div>
      ))}
    </div>
  );
}

/** A ledger, newest first, with "Show older entries" (paged by seq). */
export function LedgerView({ load }: { load: (before?: number) => Promise<{ items: LedgerEntry[] }> }) {
  const first = useLoad(() => load(), [load]);
  const [older, setOlder] = useState<LedgerEntry[]>([]);
  const [end, setEnd] = useState(false);
  const more = useAction();
  return (
    <LoadedView
      loaded={first}
      what="the ledger"
      isEmpty={(d) => d.items.length === 0}
      empty={<EmptyState title="No movements yet" />}
      ready={(d) => {
        const items = [...d.items, ...older];
        return (
          <>
            <Table
              caption="Ledger"
              rows={items}
              rowKey={(e) => e.id}
              columns={[
                { header: 'When', cell: (e) => formatTime(e.at) },
                { header: 'What', cell: (e) => kindLabels[e.kind] ?? e.kind },
                { header: 'Amount', cell: (e) => formatAmount(e.amount), numeric: true },
                { header: 'Balance after', cell: (e) => formatAmount(e.balanceAfter), numeric: true },
                { header: 'Reference', cell: (e) => e.reference ?? '—' },
                { header: 'Note', cell: (e) => e.note ?? '—' },
              ]}
            />
            {more.error && <Banner tone="error">{more.error}</Banner>}
            {!end && items.length >= 50 && (
              <Button
                busy={more.busy}
                onClick={() =>
                  void more.run(async () => {
                    const page = await load(items.at(-1)!.seq);
                    setOlder((o) => [...o, ...page.items]);
                    if (page.items.length < 50) setEnd(true);
                  })
                }
              >
                Show older entries
              </Button>
            )}
          </>
        );
      }}
    />
  );
}

export default function WalletScreen() {
  const client = useClient();
  const wallet = useLoad(() => client.admin.wallet(), [client]);
  const [loadLedger] = useState(() => (before?: number) => client.admin.ledger({ limit: 50, before }));
  return (
    <Screen
      title="Wallet"
      actions={
        <Link className="btn btn-secondary" to="/admin/top-ups">
          Ask for credit
        </Link>
      }
    >
      <LoadedView loaded={wallet} what="the wallet" ready={(w) => <WalletStats wallet={w} />} />
      <div className="subsection">
        <h2>Ledger</h2>
        <LedgerView load={loadLedger} />
      </div>
    </Screen>
  );
}
