/**
 * Carriers and rate decks in storage, and the in-memory catalogue of their versions that rating and
 * credit control read (a prefix index per version, built once).
 *
 * An import is parsed and validated whole before anything is written, then written in one transaction,
 * so a bad file leaves nothing behind and a reader never sees half a version. The catalogue picks up
 * versions imported by other processes within `refreshMs` (default 1 s); import versions ahead of their
 * effective-from instant by more than that for multi-node deployments.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { newId } from '../ids.ts';
import type { DeckSource } from './credit-control.ts';
import type { DestinationClass } from './destination-class.ts';
import { BillingError } from './errors.ts';
import { DeckVersion, RateDeck, parseRateDeckCsv, type DeckKind, type RateRow } from './rate-deck.ts';

export interface DeckInfo {
  id: string;
  name: string;
  kind: DeckKind;
  carrierId: string | null;
  createdAt: number;
  versions: Array<{ version: number; effectiveFrom: number; importedAt: number; rowCount: number }>;
}

export interface Carrier {
  id: string;
  name: string;
  createdAt: number;
}

const BATCH = 500;

export class DeckStore implements DeckSource {
  private readonly cache = new Map<string, RateDeck>();
  private generation = '';
  private checkedAt = -Infinity;
  private refreshing: Promise<void> | null = null;
  /** The cost decks by carrier, rebuilt when a deck is added to the catalogue. */
  private byCarrier: Map<string, RateDeck[]> | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly opts: { refreshMs?: number; now?: () => number } = {},
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  async createCarrier(name: string): Promise<Carrier> {
    if (!name || name.length > 120)
      throw new BillingError('validation_failed', 'name must be 1 to 120 characters');
    const c = { id: newId('car'), name, createdAt: this.now() };
    await this.db
      .insertInto('billing_carriers')
      .values({ id: c.id, name: c.name, created_at: c.createdAt })
      .execute();
    return c;
  }

  async listCarriers(): Promise<Carrier[]> {
    const rows = await this.db.selectFrom('billing_carriers').selectAll().orderBy('name').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: Number(r.created_at) }));
  }

  /** Creates an empty deck: a sell deck, or a cost deck of a carrier. */
  async createDeck(input: { name: string; kind: DeckKind; carrierId?: string | null }): Promise<DeckInfo> {
    if (!input.name || input.name.length > 120)
      throw new BillingError('validation_failed', 'name must be 1 to 120 characters');
    const carrierId = input.carrierId ?? null;
    if (input.kind === 'cost') {
      if (!carrierId) throw new BillingError('validation_failed', 'a cost deck needs its carrier');
      const c = await this.db
        .selectFrom('billing_carriers')
        .select('id')
        .where('id', '=', carrierId)
        .executeTakeFirst();
      if (!c) throw new BillingError('not_found', `no carrier ${carrierId}`);
    } else if (carrierId) throw new BillingError('validation_failed', 'a sell deck has no carrier');
    const d: DeckInfo = {
      id: newId('deck'),
      name: input.name,
      kind: input.kind,
      carrierId,
      createdAt: this.now(),
      versions: [],
    };
    await this.db
      .insertInto('billing_decks')
      .values({ id: d.id, name: d.name, kind: d.kind, carrier_id: carrierId, created_at: d.createdAt })
      .execute();
    return d;
  }

  async listDecks(): Promise<DeckInfo[]> {
    const decks = await this.db.selectFrom('billing_decks').selectAll().orderBy('name').execute();
    const versions = await this.db
      .selectFrom('billing_deck_versions')
      .selectAll()
      .orderBy('version')
      .execute();
    return decks.map((d) => ({
      id: d.id,
      name: d.name,
      kind: d.kind,
      carrierId: d.carrier_id,
      createdAt: Number(d.created_at),
      versions: versions
        .filter((v) => v.deck_id === d.id)
        .map((v) => ({
          version: v.version,
          effectiveFrom: Number(v.effective_from),
          importedAt: Number(v.imported_at),
          rowCount: v.row_count,
        })),
    }));
  }

  async getDeck(id: string): Promise<DeckInfo | null> {
    return (await this.listDecks()).find((d) => d.id === id) ?? null;
  }

  /**
   * Imports `csv` as the deck's next version, in force from `effectiveFrom` (epoch ms). Throws
   * `deck_invalid` (with row numbers) and stores nothing when the file has any problem.
   */
  async importVersion(
    deckId: string,
    csv: string,
    effectiveFrom: number,
  ): Promise<{ version: number; rows: number }> {
    if (!Number.isSafeInteger(effectiveFrom) || effectiveFrom < 0)
      throw new BillingError('validation_failed', 'effectiveFrom must be an instant');
    const deck = await this.db
      .selectFrom('billing_decks')
      .select('id')
      .where('id', '=', deckId)
      .executeTakeFirst();
    if (!deck) throw new BillingError('not_found', `no deck ${deckId}`);
    const rows = parseRateDeckCsv(csv);
    const at = this.now();
    const version = await this.db.transaction().execute(async (tx) => {
      const last = await tx
        .selectFrom('billing_deck_versions')
        .select((eb) => eb.fn.max<number>('version').as('v'))
        .where('deck_id', '=', deckId)
        .executeTakeFirst();
      const v = Number(last?.v ?? 0) + 1;
      await tx
        .insertInto('billing_deck_versions')
        .values({
          deck_id: deckId,
          version: v,
          effective_from: effectiveFrom,
          imported_at: at,
          row_count: rows.length,
        })
        .execute();
      for (let i = 0; i < rows.length; i += BATCH) {
        await tx
          .insertInto('billing_deck_rates')
          .values(
            rows.slice(i, i + BATCH).map((r) => ({
              deck_id: deckId,
              version: v,
              prefix: r.prefix,
              destination: r.destination,
              class: r.cls,
              rate_micros: r.ratePerMinute,
              fee_micros: r.connectionFee,
              first_increment: r.firstIncrement,
              next_increment: r.nextIncrement,
            })),
          )
          .execute();
      }
      return v;
    });
    const cached = this.cache.get(deckId);
    if (cached) cached.addVersion(new DeckVersion(deckId, version, effectiveFrom, rows));
    return { version, rows: rows.length };
  }

  /** The deck with every version, from the catalogue (refreshed at most every `refreshMs`). */
  async deck(id: string): Promise<RateDeck | null> {
    await this.fresh();
    return this.cache.get(id) ?? null;
  }

  /**
   * Every cost deck by the carrier it prices, from the catalogue (least-cost routing reads it on every
   * call out: no query beyond the catalogue's refresh).
   */
  async costDecksByCarrier(): Promise<ReadonlyMap<string, readonly RateDeck[]>> {
    await this.fresh();
    if (!this.byCarrier) {
      const m = new Map<string, RateDeck[]>();
      for (const d of this.cache.values())
        if (d.kind === 'cost' && d.carrierId) m.set(d.carrierId, [...(m.get(d.carrierId) ?? []), d]);
      this.byCarrier = m;
    }
    return this.byCarrier;
  }

  /** Refreshes the catalogue when it is older than `refreshMs`. */
  private async fresh(): Promise<void> {
    // Every caller waits for a refresh in flight, so none sees a deck whose versions are still loading.
    if (this.refreshing || this.now() - this.checkedAt >= (this.opts.refreshMs ?? 1000)) {
      this.refreshing ??= this.refresh().finally(() => (this.refreshing = null));
      await this.refreshing;
    }
  }

  /** Loads decks and versions not yet in the catalogue. */
  async refresh(): Promise<void> {
    const gen = await this.db
      .selectFrom('billing_deck_versions')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max<number>('imported_at').as('m')])
      .executeTakeFirstOrThrow();
    const decksGen = await this.db
      .selectFrom('billing_decks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const g = `${gen.n}:${gen.m}:${decksGen.n}`;
    if (g === this.generation) {
      this.checkedAt = this.now();
      return;
    }
    const decks = await this.db.selectFrom('billing_decks').selectAll().execute();
    for (const d of decks)
      if (!this.cache.has(d.id)) {
        this.cache.set(d.id, new RateDeck(d.id, d.name, d.kind, d.carrier_id));
        this.byCarrier = null;
      }
    const versions = await this.db.selectFrom('billing_deck_versions').selectAll().execute();
    for (const v of versions) {
      const deck = this.cache.get(v.deck_id);
      if (!deck || deck.allVersions().some((x) => x.version === v.version)) continue;
      const rows = await this.db
        .selectFrom('billing_deck_rates')
        .selectAll()
        .where('deck_id', '=', v.deck_id)
        .where('version', '=', v.version)
        .execute();
      const rateRows: RateRow[] = rows.map((r) => ({
        prefix: r.prefix,
        destination: r.destination,
        cls: r.class as DestinationClass,
        ratePerMinute: Number(r.rate_micros),
        connectionFee: Number(r.fee_micros),
        firstIncrement: r.first_increment,
        nextIncrement: r.next_increment,
      }));
      deck.addVersion(new DeckVersion(v.deck_id, v.version, Number(v.effective_from), rateRows));
    }
    this.generation = g;
    this.checkedAt = this.now();
  }
}
