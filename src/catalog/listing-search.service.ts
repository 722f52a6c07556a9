import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { notFound } from '../common/errors';
import { amountToJson } from '../common/money';
import { decodeCursor, encodeCursor, Page, PageQuery, pageLimit, toPage } from '../common/pagination';
import { AppConfig } from '../config/app-config';
import { queryRows } from '../database/sql';
import { rethrowBadCursor } from '../common/cursors';
import { SearchListingsQuery } from './dto/listing.dto';
import { LISTING_COLUMNS, ListingRow, ListingView, toListingView } from './listing.mapper';
import { splitCreditSale } from './pricing';

export interface ListingDetail extends ListingView {
  /** The derivation chain, root first, with what each ancestor receives from a CREDIT sale. */
  ancestors: { id: string; title: string; creatorId: string; profit: number; royalty: number }[];
  breakdown: { derivationCost: number; profit: number; platformFee: number; price: number; royalties: number; sellerShare: number };
}

const NEWEST_FIRST = 'ORDER BY published_at DESC, id DESC';

interface Filter {
  /** Conditions on published listings, the page's cursor included. */
  where: string;
  params: unknown[];
  limit: number;
}

/** Public reads: browse and full-text search of published listings, one listing with its price breakdown. */
@Injectable()
export class ListingSearchService {
  constructor(
    private readonly db: DataSource,
    private readonly config: AppConfig,
  ) {}

  /**
   * Published listings, newest first: the order is (published_at, id) descending whatever the filters,
   * so cursors are stable. `q` is PostgreSQL full-text search (websearch syntax) on title and description.
   */
  async search(query: SearchListingsQuery): Promise<Page<ListingView>> {
    const params: unknown[] = [];
    const param = (v: unknown): string => `$${params.push(v)}`;
    const where = [`status = 'published'`];
    if (query.category) where.push(`category = ${param(query.category)}`);
    if (query.creatorId) where.push(`creator_id = ${param(query.creatorId)}`);
    const after = decodeCursor(query.cursor, 2);
    if (after) where.push(`(published_at, id) < (${param(after[0])}::timestamptz, ${param(after[1])}::uuid)`);
    const filter: Filter = { where: where.join(' AND '), params, limit: pageLimit(query) };
    const q = query.q?.trim();
    if (!q) {
      const rows = await this.rows(filter, `SELECT ${LISTING_COLUMNS} FROM listings WHERE ${filter.where} ${NEWEST_FIRST} LIMIT $LIMIT`);
      return this.page(rows, filter.limit);
    }
    return this.searchText(filter, q);
  }

  /**
   * Up to `exactMatches` matches are taken from the GIN index and sorted. With more, they are dense among
   * the newest rows, found by walking the newest-first index, but a page looks at no more than `window`
   * rows (a short page, then, with a cursor to go on): the walk alone is what the planner would choose,
   * and it reads most of the table when every match is old.
   */
  private async searchText(filter: Filter, q: string): Promise<Page<ListingView>> {
    const { exactMatches, window } = this.config.catalogSearch;
    const matches = `search @@ websearch_to_tsquery('english', $Q)`;
    const few = await this.rows(
      filter,
      `WITH m AS MATERIALIZED (SELECT id, published_at FROM listings WHERE ${filter.where} AND ${matches} LIMIT ${exactMatches + 1})
       SELECT ${LISTING_COLUMNS}, (SELECT count(*) FROM m)::int AS matched FROM listings
       WHERE id IN (SELECT id FROM m ${NEWEST_FIRST} LIMIT $LIMIT) ${NEWEST_FIRST}`,
      q,
    );
    if (few.length === 0 || few[0].matched! <= exactMatches) return this.page(few, filter.limit);

    const hits = await this.rows(
      filter,
      `SELECT * FROM (SELECT ${LISTING_COLUMNS}, search FROM listings WHERE ${filter.where} ${NEWEST_FIRST} LIMIT ${window}) w
       WHERE ${matches} ${NEWEST_FIRST} LIMIT $LIMIT`,
      q,
    );
    if (hits.length > filter.limit) return this.page(hits, filter.limit);
    const [edge] = await this.rows(
      filter,
      `SELECT published_at::text AS published_key, id FROM listings WHERE ${filter.where} ${NEWEST_FIRST} OFFSET ${window - 1} LIMIT 1`,
    );
    return { items: hits.map(toListingView), nextCursor: edge ? encodeCursor([edge.published_key, edge.id]) : null };
  }

  /** Runs `sql` with the filter's parameters; `$Q` is the text query and `$LIMIT` one more than the page size. */
  private rows(filter: Filter, sql: string, q?: string): Promise<(ListingRow & { matched?: number })[]> {
    const params = [...filter.params];
    const text = sql.replace(/\$Q\b/g, () => `$${params.push(q)}`).replace(/\$LIMIT\b/g, () => `$${params.push(filter.limit + 1)}`);
    return queryRows<ListingRow & { matched?: number }>(this.db, text, params).catch(rethrowBadCursor);
  }

  private page(rows: ListingRow[], limit: number): Page<ListingView> {
    return toPage(rows, limit, toListingView, (r) => [r.published_key, r.id]);
  }

  /** A published (or since delisted) listing with its derivation chain and the split of a CREDIT sale. */
  async detail(id: string): Promise<ListingDetail> {
    const [row] = await queryRows<ListingRow>(
      this.db,
      `SELECT ${LISTING_COLUMNS} FROM listings WHERE id = $1 AND status IN ('published', 'delisted')`,
      [id],
    );
    if (!row) throw notFound('Listing');
    return this.withBreakdown(row);
  }

  /** The caller's own listings in every state, newest first. */
  async mine(userId: string, page: PageQuery): Promise<Page<ListingView>> {
    const limit = pageLimit(page);
    const after = decodeCursor(page.cursor, 2);
    const rows = await queryRows<ListingRow & { created_key: string }>(
      this.db,
      `SELECT ${LISTING_COLUMNS}, created_at::text AS created_key FROM listings
       WHERE creator_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [userId, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    ).catch(rethrowBadCursor);
    return toPage(rows, limit, toListingView, (r) => [r.created_key, r.id]);
  }

  private async withBreakdown(row: ListingRow): Promise<ListingDetail> {
    const ancestors = await queryRows<{ id: string; title: string; creator_id: string; profit: string }>(
      this.db,
      'SELECT id, title, creator_id, profit FROM listings WHERE id = ANY ($1::uuid[]) ORDER BY array_position($1::uuid[], id)',
      [row.ancestor_ids],
    );
    const profits = ancestors.map((a) => BigInt(a.profit));
    const split = splitCreditSale(
      {
        derivationCost: BigInt(row.derivation_cost),
        profit: BigInt(row.profit),
        platformFee: BigInt(row.platform_fee),
        price: BigInt(row.price),
      },
      profits,
      this.config.economy.royaltyCapPercent,
    );
    const view = toListingView(row);
    return {
      ...view,
      ancestors: ancestors.map((a, i) => ({
        id: a.id,
        title: a.title,
        creatorId: a.creator_id,
        profit: amountToJson(a.profit),
        royalty: amountToJson(split.ancestors[i]),
      })),
      breakdown: {
        derivationCost: view.derivationCost,
        profit: view.profit,
        platformFee: view.platformFee,
        price: view.price,
        royalties: amountToJson(split.ancestors.reduce((a, b) => a + b, 0n)),
        sellerShare: amountToJson(split.seller),
      },
    };
  }
}
