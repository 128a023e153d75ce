/**
 * Tenant admin: add users from a CSV file. The header names the columns (address or email, name,
 * password, title, department, role; any order, any case). Rows go to the server in batches of
 * BATCH_ROWS, one batch at a time, with a progress bar; each row is created or refused on its own, and
 * the report lists the refused rows by their line in the file, with a sentence saying why. Importing the
 * same file again creates nobody twice: those rows answer that the address is taken.
 */
import { useState } from 'react';
import type { BulkUserResult } from '@parley/protocol';
import { Banner, Button } from '../ui/index.ts';
import { useClient, useSessionObject } from '../session/use-session.ts';
import { Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { CsvSource } from '../console/CsvSource.tsx';
import { parseCsv } from '../console/csv.ts';
import { rowErrorSentence } from '../console/row-errors.ts';
import '../console/console.css';

/** Rows per request: small enough for a steady progress bar, far below the server's 500. */
export const BATCH_ROWS = 50;

const columnNames: Record<string, string> = {
  address: 'address',
  email: 'address',
  'email address': 'address',
  name: 'displayName',
  displayname: 'displayName',
  'display name': 'displayName',
  password: 'password',
  title: 'title',
  'job title': 'title',
  department: 'department',
  role: 'role',
};

type Prepared = { rows: Array<Record<string, unknown>>; lines: number[] } | { problem: string };

function prepare(text: string): Prepared {
  const records = parseCsv(text);
  if (records.length < 2) return { problem: 'The file needs a header line and at least one user.' };
  const header = records[0]!.fields.map((h) => columnNames[h.trim().toLowerCase()] ?? null);
  const unknown = records[0]!.fields.filter((_, i) => header[i] === null);
  if (unknown.length) return { problem: `These columns are not known: ${unknown.join(', ')}.` };
  for (const need of ['address', 'displayName', 'password'])
    if (!header.includes(need))
      return { problem: `The file needs a column named ${need === 'displayName' ? 'name' : need}.` };
  const rows = records.slice(1).map((r) => {
    const row: Record<string, unknown> = {};
    header.forEach((key, i) => {
      const v = r.fields[i]?.trim() ?? '';
      if (key && v !== '') row[key] = key === 'role' ? v.toLowerCase() : v;
    });
    return row;
  });
  return { rows, lines: records.slice(1).map((r) => r.line) };
}

interface Report {
  total: number;
  done: number;
  created: number;
  failed: Array<{ line: number; address: string; result: BulkUserResult }>;
  finished: boolean;
}

export default function ImportUsersScreen() {
  const client = useClient();
  const session = useSessionObject();
  const [text, setText] = useState('');
  const [report, setReport] = useState<Report | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const running = report !== null && !report.finished;

  const start = async () => {
    setProblem(null);
    const p = prepare(text);
    if ('problem' in p) {
      setProblem(p.problem);
      return;
    }
    let r: Report = { total: p.rows.length, done: 0, created: 0, failed: [], finished: false };
    setReport(r);
    try {
      await client.admin
        .importUsers(p.rows, {
          batchSize: BATCH_ROWS,
          onProgress: (prog) => {
            r = { ...r, done: prog.done, created: prog.created };
            setReport(r);
          },
        })
        .then((results) => {
          r = {
            ...r,
            failed: results
              .filter((x) => x.status === 'error')
              .map((x) => ({
                line: p.lines[x.index]!,
                address: String(p.rows[x.index]!.address ?? ''),
                result: x,
              })),
          };
        });
    } catch (err) {
      setProblem(
        `The import stopped after ${r.done} of ${r.total} rows: ${session.failed(err)} Importing the file again skips the users already added.`,
      );
    }
    setReport({ ...r, finished: true });
  };

  return (
    <Screen title="Import users">
      <p className="muted">
        The first line names the columns: <code>address</code>, <code>name</code>, <code>password</code>, and
        optionally <code>title</code>, <code>department</code> and <code>role</code> (user or admin). Each row
        is added on its own; rows with a problem are listed below and the others are imported.
      </p>
      <CsvSource value={text} onChange={setText} />
      <div className="form-actions">
        <Button variant="primary" busy={running} disabled={!text.trim()} onClick={() => void start()}>
          Import users
        </Button>
      </div>
      {problem && <Banner tone="error">{problem}</Banner>}
      {report && (
        <div className="progress">
          <label htmlFor="import-progress">
            {report.finished ? 'Import finished' : 'Importing'}: {report.done} of {report.total} rows
          </label>
          <progress id="import-progress" max={report.total} value={report.done} />
        </div>
      )}
      {report?.finished && (
        <Banner tone={report.failed.length ? 'warning' : 'success'}>
          {report.created} {report.created === 1 ? 'user' : 'users'} added
          {report.failed.length
            ? `; ${report.failed.length} ${report.failed.length === 1 ? 'row' : 'rows'} not imported (listed below).`
            : '.'}
        </Banner>
      )}
      {report?.finished && report.failed.length > 0 && (
        <Table
          caption="Rows not imported"
          rows={report.failed}
          rowKey={(f) => String(f.line)}
          columns={[
            { header: 'Line', cell: (f) => f.line, numeric: true },
            { header: 'Address', cell: (f) => f.address || '—' },
            {
              header: 'Problem',
              cell: (f) => (f.result.status === 'error' ? rowErrorSentence(f.result.error) : ''),
            },
          ]}
        />
      )}
    </Screen>
  );
}
