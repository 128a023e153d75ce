/**
 * Operator: a tenant's wallet and ledger; add credit (a payment that arrived) or adjust the balance
 * with a reason. Each money-moving form keeps one Idempotency-Key until it succeeds, so pressing again
 * after a network failure never credits twice.
 */
import { useCallback, useState } from 'react';
import { Banner, Button, SelectField, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { useLocation, navigate } from '../router/router.tsx';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { useLoad } from '../console/use-load.ts';
import { LedgerView, WalletStats } from '../admin/WalletScreen.tsx';
import '../console/console.css';

const newKey = () => crypto.randomUUID();

export default function WalletsScreen() {
  const client = useClient();
  const { query } = useLocation();
  const tenants = useLoad(() => client.operator.tenants(), [client]);
  const chosen = query.get('tenant') ?? (tenants.status === 'ready' ? tenants.data.items[0]?.id : undefined);
  return (
    <Screen title="Wallets">
      <LoadedView
        loaded={tenants}
        what="tenants"
        isEmpty={(d) => d.items.length === 0}
        ready={(d) => (
          <>
            <SelectField
              label="Tenant"
              value={chosen ?? ''}
              onChange={(e) =>
                navigate(`/operator/wallets?tenant=${encodeURIComponent(e.target.value)}`, { replace: true })
              }
              options={d.items.map((t) => ({ value: t.id, label: t.name }))}
            />
            {chosen && <TenantWallet key={chosen} tenantId={chosen} />}
          </>
        )}
      />
    </Screen>
  );
}

function TenantWallet({ tenantId }: { tenantId: string }) {
  const client = useClient();
  const [n, setN] = useState(0);
  const wallet = useLoad(() => client.operator.wallet(tenantId), [client, tenantId, n]);
  const loadLedger = useCallback(
    (before?: number) => client.operator.ledger(tenantId, { limit: 50, before }),
    // A new function after each movement reloads the ledger.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, tenantId, n],
  );
  const moved = () => setN((x) => x + 1);
  return (
    <>
      <LoadedView loaded={wallet} what="the wallet" ready={(w) => <WalletStats wallet={w} />} />
      <MoneyForm
        title="Add credit"
        amountLabel="Amount to add"
        noteLabel="Payment reference"
        submit={(amount, note, key) =>
          client.operator.topUp(tenantId, { amount, ...(note ? { reference: note } : {}) }, key)
        }
        onDone={moved}
      />
      <MoneyForm
        title="Adjust the balance"
        amountLabel="Adjustment (negative to take off)"
        noteLabel="Reason"
        noteRequired
        submit={(amount, note, key) => client.operator.adjust(tenantId, amount, note, key)}
        onDone={moved}
      />
      <div className="subsection">
        <h2>Ledger</h2>
        <LedgerView load={loadLedger} />
      </div>
    </>
  );
}

function MoneyForm({
  title,
  amountLabel,
  noteLabel,
  noteRequired,
  submit,
  onDone,
}: {
  title: string;
  amountLabel: string;
  noteLabel: string;
  noteRequired?: boolean;
  submit: (amount: string, note: string, idempotencyKey: string) => Promise<unknown>;
  onDone: () => void;
}) {
  const act = useAction();
  const [amount, setAmount] = useState('');
  const [note, setNote] = useState('');
  const [key, setKey] = useState(newKey);
  const [done, setDone] = useState(false);
  return (
    <form
      className="form subsection"
      aria-label={title}
      onSubmit={(e) => {
        e.preventDefault();
        setDone(false);
        void act
          .run(() => submit(amount.trim(), note.trim(), key))
          .then((ok) => {
            if (!ok) return;
            setAmount('');
            setNote('');
            setKey(newKey());
            setDone(true);
            onDone();
          });
      }}
    >
      <h2>{title}</h2>
      {act.error && <Banner tone="error">{act.error}</Banner>}
      {done && <Banner tone="success">Done: the ledger below shows it.</Banner>}
      <TextField
        label={amountLabel}
        required
        inputMode="decimal"
        value={amount}
        onChange={(e) => setAmount(e.target.value)}
      />
      <TextField
        label={noteLabel}
        required={noteRequired}
        value={note}
        onChange={(e) => setNote(e.target.value)}
      />
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={act.busy}>
          {title}
        </Button>
      </div>
    </form>
  );
}
