/** Operator: every rate deck (sell decks price tenants' calls; cost decks, a carrier's minutes). */
import { useState } from 'react';
import { Banner, Button, SelectField, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { Link, navigate } from '../router/router.tsx';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import { formatTime } from '../console/format.ts';
import '../console/console.css';

export default function DecksScreen() {
  const client = useClient();
  const data = useLoad(async () => {
    const [decks, carriers] = await Promise.all([client.operator.decks(), client.operator.carriers()]);
    return { decks: decks.items, carriers: carriers.items };
  }, [client]);
  const act = useAction();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'sell' | 'cost'>('sell');
  const [carrierId, setCarrierId] = useState('');
  return (
    <Screen title="Rate decks">
      <LoadedView
        loaded={data}
        what="rate decks"
        ready={(d) => {
          const carrier = carrierId || d.carriers[0]?.id || '';
          return (
            <>
              <form
                className="form"
                onSubmit={(e) => {
                  e.preventDefault();
                  void act.run(async () => {
                    const deck = await client.operator.createDeck({
                      name,
                      kind,
                      ...(kind === 'cost' ? { carrierId: carrier } : {}),
                    });
                    navigate(`/operator/decks/${deck.id}`);
                  });
                }}
              >
                {act.error && <Banner tone="error">{act.error}</Banner>}
                <TextField
                  label="Deck name"
                  required
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                />
                <SelectField
                  label="Kind"
                  value={kind}
                  onChange={(e) => setKind(e.target.value as 'sell' | 'cost')}
                  options={[
                    { value: 'sell', label: 'Sell deck (what tenants pay)' },
                    ...(d.carriers.length
                      ? [{ value: 'cost', label: 'Cost deck (what a carrier charges)' }]
                      : []),
                  ]}
                />
                {kind === 'cost' && (
                  <SelectField
                    label="Carrier"
                    value={carrier}
                    onChange={(e) => setCarrierId(e.target.value)}
                    options={d.carriers.map((c) => ({ value: c.id, label: c.name }))}
                  />
                )}
                <div className="form-actions">
                  <Button type="submit" variant="primary" busy={act.busy}>
                    Create deck
                  </Button>
                </div>
              </form>
              {d.decks.length > 0 && (
                <Table
                  caption="Rate decks"
                  rows={d.decks}
                  rowKey={(x) => x.id}
                  columns={[
                    { header: 'Deck', cell: (x) => <Link to={`/operator/decks/${x.id}`}>{x.name}</Link> },
                    {
                      header: 'Kind',
                      cell: (x) =>
                        x.kind === 'sell'
                          ? 'Sell'
                          : `Cost (${d.carriers.find((c) => c.id === x.carrierId)?.name ?? 'carrier'})`,
                    },
                    { header: 'Versions', cell: (x) => x.versions.length, numeric: true },
                    {
                      header: 'Latest in force from',
                      cell: (x) =>
                        x.versions.length ? formatTime(x.versions.at(-1)!.effectiveFrom) : 'No version yet',
                    },
                  ]}
                />
              )}
            </>
          );
        }}
      />
    </Screen>
  );
}
