/**
 * Importing numbers into the inventory from a CSV file (issue 19), as the operator's HTTP API
 * (`POST /api/operator/telephony/numbers/import`) and the CLI (`parley number import FILE.csv`) do it.
 *
 * The file has a header row naming the columns `number`, `carrier` and optionally `tenant`, in any
 * order, and one number a row:
 *
 *   number,carrier,tenant
 *   +44 20 7946 0018,Acme Telecom,example.com
 *   +442079460019,car_0123456789abcdef,
 *
 * `number` is an international number with + (separators allowed), kept in E.164; `carrier` is billing's
 * carrier id or name (ignoring case) and the carrier must have a SIP trunk; `tenant`, when given, is one
 * of a tenant's domains and gives the number to that tenant. Every row is checked first: a number not
 * valid, a carrier or tenant that does not exist, a number already in the inventory or twice in the file
 * each name their row (the header is row 1, as a spreadsheet counts), and then nothing is imported
 * (`numbers_invalid`, with `rows`). Otherwise every row is added in one transaction.
 */
import type { Kysely } from 'kysely';
import { ParleyError, type RowProblem } from '@parley/protocol';
import type { Database } from '../storage/schema.ts';
import { parseCsv } from '../billing/csv.ts';
import { dial } from './dial-plan.ts';
import type { PhoneNumber } from './numbers.ts';

const MAX_ROWS = 10_000;
const MAX_PROBLEMS = 200;
const COLUMNS = ['number', 'carrier', 'tenant'] as const;

/** Checks `csv` against the database; throws `numbers_invalid` naming every bad row. */
export async function checkNumberCsv(db: Kysely<Database>, csv: string): Promise<PhoneNumber[]> {
  const { records, problems: structural } = parseCsv(csv);
  const problems: RowProblem[] = structural.map((p) => ({ row: p.line, message: p.message }));
  const add = (p: RowProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  if (records.length === 0) throw invalid([{ row: 1, message: 'the file is empty: no header row' }]);
  const header = records[0].fields.map((h) => h.trim().toLowerCase());
  const col: Record<string, number> = {};
  for (const name of COLUMNS) {
    col[name] = header.indexOf(name);
    if (col[name] < 0 && name !== 'tenant')
      add({ row: records[0].line, column: name, message: `missing column "${name}"` });
  }
  if (problems.length) throw invalid(problems);
  if (records.length - 1 > MAX_ROWS) throw invalid([{ row: 1, message: `more than ${MAX_ROWS} rows` }]);
  if (records.length === 1) throw invalid([{ row: 1, message: 'the file has no numbers' }]);

  const carriers = await db.selectFrom('billing_carriers').select(['id', 'name']).execute();
  const trunks = new Set(
    (await db.selectFrom('telephony_trunks').select('carrier_id').execute()).map((t) => t.carrier_id),
  );
  const domains = new Map(
    (await db.selectFrom('domains').select(['domain', 'tenant_id']).execute()).map((d) => [
      d.domain.toLowerCase(),
      d.tenant_id,
    ]),
  );
  const held = new Set(
    (await db.selectFrom('telephony_numbers').select('number').execute()).map((n) => n.number),
  );

  const out: PhoneNumber[] = [];
  const seen = new Map<string, number>();
  for (const { line, fields } of records.slice(1)) {
    const get = (name: string) => (col[name] < 0 ? '' : (fields[col[name]] ?? '').trim());
    let ok = true;
    const fail = (column: string, message: string) => {
      ok = false;
      add({ row: line, column, message });
    };

    let number = '';
    const typed = get('number');
    try {
      const d = dial(typed, { country: '' });
      if (d.kind === 'number') number = d.e164;
      else fail('number', `"${typed}" is not an international number (start it with +)`);
    } catch (err) {
      if (!(err instanceof ParleyError)) throw err;
      fail('number', `"${typed}": ${err.message}`);
    }
    if (number) {
      const first = seen.get(number);
      if (held.has(number)) fail('number', `${number} is already in the inventory`);
      else if (first !== undefined) fail('number', `${number} is already on row ${first}`);
      else seen.set(number, line);
    }

    let carrierId = '';
    const c = get('carrier');
    const byId = carriers.find((x) => x.id === c);
    const named = byId ? [byId] : carriers.filter((x) => x.name.toLowerCase() === c.toLowerCase());
    if (c === '') fail('carrier', 'no carrier');
    else if (named.length === 0) fail('carrier', `no carrier is named "${c}"`);
    else if (named.length > 1) fail('carrier', `${named.length} carriers are named "${c}": give its id`);
    else if (!trunks.has(named[0].id)) fail('carrier', `carrier ${named[0].name} has no SIP trunk`);
    else carrierId = named[0].id;

    let tenantId: string | null = null;
    const t = get('tenant');
    if (t !== '') {
      tenantId = domains.get(t.toLowerCase()) ?? null;
      if (tenantId === null) fail('tenant', `no tenant has the domain "${t}"`);
    }
    if (ok) out.push({ number, carrierId, tenantId, userId: null });
  }
  if (problems.length) throw invalid(problems);
  return out;
}

/** Checks the file, then adds every row in one transaction; nothing is added when a row is bad. */
export async function importNumberCsv(
  db: Kysely<Database>,
  csv: string,
  now: () => number = Date.now,
): Promise<PhoneNumber[]> {
  const rows = await checkNumberCsv(db, csv);
  const at = now();
  await db.transaction().execute(async (tx) => {
    for (let i = 0; i < rows.length; i += 500)
      await tx
        .insertInto('telephony_numbers')
        .values(
          rows.slice(i, i + 500).map((n) => ({
            number: n.number,
            carrier_id: n.carrierId,
            tenant_id: n.tenantId,
            user_id: null,
            created_at: at,
          })),
        )
        .execute();
  });
  return rows;
}

function invalid(problems: RowProblem[]): ParleyError {
  const first = problems
    .slice(0, 3)
    .map((p) => `row ${p.row}${p.column ? ` (${p.column})` : ''}: ${p.message}`);
  const more = problems.length > 3 ? ` and ${problems.length - 3} more` : '';
  return new ParleyError('numbers_invalid', `no number was imported: ${first.join('; ')}${more}`, {
    rows: problems,
  });
}
