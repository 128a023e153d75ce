/**
 * Operator: one rate deck, its versions, and importing the next version from CSV. A version is all or
 * nothing: a file with a bad row is refused whole, and the report lists each problem by its row in the
 * file (row 1 is the header) and column. Progress shows reading the file, then sending and checking it
 * (one request: the server checks every row before it stores any).
 */
import { useState } from 'react';
import { ParleyError, type RowProblem } from '@parley/sdk';
import { Banner, Button, TextField } from '../ui/index.ts';
import { useClient, useSessionObject } from '../session/use-session.ts';
import { Link } from '../router/router.tsx';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { CsvSource } from '../console/CsvSource.tsx';
import { useLoad } from '../console/use-load.ts';
import { formatTime } from '../console/format.ts';
import '../console/console.css';

const HEADER = 'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment';

/** Today at 00:00 in the reader's zone, as a datetime-local value. */
function todayLocal(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T00:00`;
}

type Upload =
  | { stage: 'sending'; rows: number }
  | { stage: 'done'; version: number; rows: number }
  | { stage: 'refused'; sentence: string; problems: RowProblem[] };

export default function DeckScreen({ params }: { params: Record<string, string> }) {
  const client = useClient();
  const session = useSessionObject();
  const id = params.deckId!;
  const deck = useLoad(async () => {
    const all = await client.operator.decks();
    const d = all.items.find((x) => x.id === id);
    if (!d) throw new ParleyError('not_found', 'no such deck');
    return d;
  }, [client, id]);
  const [csv, setCsv] = useState('');
  const [from, setFrom] = useState(todayLocal);
  const [upload, setUpload] = useState<Upload | null>(null);

  const start = async () => {
    const rows = Math.max(csv.trim().split(/\r?\n/).length - 1, 0);
    setUpload({ stage: 'sending', rows });
    try {
      const r = await client.operator.importDeck(id, csv, new Date(from).toISOString());
      setUpload({ stage: 'done', version: r.version, rows: r.rows });
      deck.reload();
    } catch (err) {
      setUpload({
        stage: 'refused',
        sentence: session.failed(err),
        problems: err instanceof ParleyError ? (err.rows ?? []) : [],
      });
    }
  };

  return (
    <Screen title={deck.status === 'ready' ? deck.data.name : 'Rate deck'}>
      <Link to="/operator/decks" className="back-link">
        All rate decks
      </Link>
      <LoadedView
        loaded={deck}
        what="the deck"
        ready={(d) => (
          <div className="subsection">
            <h2>Versions</h2>
            {d.versions.length === 0 ? (
              <p className="muted">No version yet: import the first below.</p>
            ) : (
              <Table
                caption="Versions"
                rows={[...d.versions].reverse()}
                rowKey={(v) => String(v.version)}
                columns={[
                  { header: 'Version', cell: (v) => v.version, numeric: true },
                  { header: 'In force from', cell: (v) => formatTime(v.effectiveFrom) },
                  { header: 'Imported', cell: (v) => formatTime(v.importedAt) },
                  { header: 'Prefixes', cell: (v) => v.rowCount, numeric: true },
                ]}
              />
            )}
          </div>
        )}
      />
      <div className="subsection">
        <h2>Import a new version</h2>
        <p className="muted">
          The first line is <code>{HEADER}</code>. Rates are per minute; increments in seconds.
        </p>
        <CsvSource value={csv} onChange={setCsv} label="Deck CSV text" />
        <TextField
          label="In force from"
          type="datetime-local"
          required
          value={from}
          onChange={(e) => setFrom(e.target.value)}
        />
        <div className="form-actions">
          <Button
            variant="primary"
            busy={upload?.stage === 'sending'}
            disabled={!csv.trim() || !from}
            onClick={() => void start()}
          >
            Import version
          </Button>
        </div>
        {upload?.stage === 'sending' && (
          <div className="progress">
            <label htmlFor="deck-progress">Sending and checking {upload.rows} rows…</label>
            <progress id="deck-progress" />
          </div>
        )}
        {upload?.stage === 'done' && (
          <Banner tone="success">
            Version {upload.version} imported with {upload.rows} prefixes.
          </Banner>
        )}
        {upload?.stage === 'refused' && (
          <>
            <Banner tone="error">
              {upload.sentence}
              {upload.problems.length > 0 &&
                ` ${upload.problems.length} ${upload.problems.length === 1 ? 'problem' : 'problems'} found.`}
            </Banner>
            {upload.problems.length > 0 && (
              <Table
                caption="Problems in the file"
                rows={upload.problems}
                rowKey={(p) => `${p.row}:${p.column ?? ''}:${p.message}`}
                columns={[
                  { header: 'Row', cell: (p) => p.row, numeric: true },
                  { header: 'Column', cell: (p) => p.column ?? '—' },
                  { header: 'Problem', cell: (p) => p.message },
                ]}
              />
            )}
          </>
        )}
      </div>
    </Screen>
  );
}
