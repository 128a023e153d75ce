/**
 * Operator: the billing carriers (whose cost decks price the minutes bought from them) with their cost
 * decks, and beside them each carrier's SIP trunk (TrunkForm: where its calls go and how they are
 * recognised), so pricing and routing are set on the same carrier. Each trunk shows the running server's
 * status (`GET /api/operator/telephony/carriers/status`): every address up, down (with the last error)
 * or unknown, and a registration trunk's registration state and last error; *Refresh status* reloads.
 */
import { useState } from 'react';
import { Banner, Button, EmptyState, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { Link } from '../router/router.tsx';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import { formatTime } from '../console/format.ts';
import { TrunkForm } from './TrunkForm.tsx';
import '../console/console.css';
import './telephony.css';

export default function CarriersScreen() {
  const client = useClient();
  const data = useLoad(async () => {
    const [carriers, decks, trunks, tenants, status] = await Promise.all([
      client.operator.carriers(),
      client.operator.decks(),
      client.telephony.trunks(),
      client.operator.tenants(),
      client.telephony.carrierStatus(),
    ]);
    return {
      carriers: carriers.items,
      decks: decks.items,
      trunks: trunks.items,
      tenants: tenants.items,
      status: status.items,
    };
  }, [client]);
  const act = useAction();
  const [name, setName] = useState('');
  const [deckName, setDeckName] = useState<Record<string, string>>({});
  return (
    <Screen title="Carriers">
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void act
            .run(() => client.operator.createCarrier(name))
            .then((ok) => {
              if (!ok) return;
              setName('');
              data.reload();
            });
        }}
      >
        <TextField label="Carrier name" required value={name} onChange={(e) => setName(e.target.value)} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={act.busy}>
            Add carrier
          </Button>
        </div>
      </form>
      {act.error && <Banner tone="error">{act.error}</Banner>}
      <div className="form-actions">
        <Button onClick={() => data.reload()}>Refresh status</Button>
      </div>
      <LoadedView
        loaded={data}
        what="carriers"
        isEmpty={(d) => d.carriers.length === 0}
        ready={(d) =>
          d.carriers.map((c) => {
            const decks = d.decks.filter((x) => x.carrierId === c.id);
            return (
              <div className="subsection" key={c.id}>
                <h2>{c.name}</h2>
                <p className="muted small">Added {formatTime(c.createdAt)}</p>
                {decks.length === 0 ? (
                  <EmptyState title="No cost deck yet" />
                ) : (
                  <Table
                    caption={`Cost decks of ${c.name}`}
                    rows={decks}
                    rowKey={(x) => x.id}
                    columns={[
                      { header: 'Deck', cell: (x) => <Link to={`/operator/decks/${x.id}`}>{x.name}</Link> },
                      { header: 'Versions', cell: (x) => x.versions.length, numeric: true },
                      {
                        header: 'Prefixes (latest)',
                        cell: (x) => x.versions.at(-1)?.rowCount ?? 0,
                        numeric: true,
                      },
                    ]}
                  />
                )}
                <form
                  className="form"
                  onSubmit={(e) => {
                    e.preventDefault();
                    void act
                      .run(() =>
                        client.operator.createDeck({
                          name: deckName[c.id] ?? '',
                          kind: 'cost',
                          carrierId: c.id,
                        }),
                      )
                      .then((ok) => {
                        if (!ok) return;
                        setDeckName({ ...deckName, [c.id]: '' });
                        data.reload();
                      });
                  }}
                >
                  <TextField
                    label={`New cost deck of ${c.name}`}
                    required
                    value={deckName[c.id] ?? ''}
                    onChange={(e) => setDeckName({ ...deckName, [c.id]: e.target.value })}
                  />
                  <div className="form-actions">
                    <Button type="submit" busy={act.busy}>
                      Add cost deck
                    </Button>
                  </div>
                </form>
                <TrunkForm
                  carrier={c}
                  trunk={d.trunks.find((t) => t.id === c.id)}
                  status={d.status.find((x) => x.carrierId === c.id)}
                  tenants={d.tenants}
                  onSaved={data.reload}
                />
              </div>
            );
          })
        }
      />
    </Screen>
  );
}
