import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { rethrowBadCursor } from '../common/cursors';
import { encodeCursor, Page, toPage } from '../common/pagination';
import { queryRows } from '../database/sql';
import { LISTING_COLUMNS, ListingRow, ListingView, toListingView } from './listing.rows';

const NEWEST_FIRST = 'ORDER BY published_at DESC, id DESC';

/** What a search of published listings is narrowed by; `after` is the (published_at, id) key of the previous page's last item. */
export interface ListingFilter {
  category?: string;
  creatorId?: string;
  after?: unknown[];
}

/** How much of the index a full-text search may read (AppConfig.catalogSearch). */
export interface TextSearchLimits {
  exactMatches: number;
  window: number;
}

export interface AncestorRow {
  id: string;
  title: string;
  creator_id: string;
  profit: string;
}

interface ExplainedPlan {
  Plan: { 'Plan Rows': number; Plans?: { 'Plan Rows': number }[] };
}

interface Filter {
  /** Conditions on published listings, the page's cursor included. */
  where: string;
  params: unknown[];
  limit: number;
}

/** `listings` as the public reads see them: keyset pages, newest first, and full-text search. */
@Injectable()
export class ListingSearchRepository {
  /**
   * Published listings, newest first: the order is (published_at, id) descending whatever the filters,
   * so cursors are stable. `q` is PostgreSQL full-text search (websearch syntax) on title and description.
   */
  async search(
    db: EntityManager | DataSource,
    f: ListingFilter,
    q: string | undefined,
    limit: number,
    limits: TextSearchLimits,
  ): Promise<Page<ListingView>> {
    const params: unknown[] = [];
    const param = (v: unknown): string => `$${params.push(v)}`;
    const where = [`status = 'published'`];
    if (f.category) where.push(`category = ${param(f.category)}`);
    if (f.creatorId) where.push(`creator_id = ${param(f.creatorId)}`);
    if (f.after) where.push(`(published_at, id) < (${param(f.after[0])}::timestamptz, ${param(f.after[1])}::uuid)`);
    const filter: Filter = { where: where.join(' AND '), params, limit };
    if (!q) {
      const rows = await this.rows(
        db,
        filter,
        `SELECT ${LISTING_COLUMNS} FROM listings WHERE ${filter.where} ${NEWEST_FIRST} LIMIT $LIMIT`,
      );
      return this.page(rows, filter.limit);
    }
    return this.searchText(db, filter, q, limits);
  }

  /**
   * Two ways to a page of matches, newest first. Rare words: up to `exactMatches` matches are taken
   * from the GIN index and sorted (with more, the walk below). Common words: walk the newest-first
   * index and test each row, reading no more than `window` rows a page (a short page, then, with a
   * cursor to go on), since a word dense overall may be absent from the newest rows. The planner's
   * row estimates choose: the walk when it is expected to find a page in fewer rows than the GIN
   * index would return, and in well under the window, so a word whose matches are all old does not
   * walk far; the GIN path's count cap catches an estimate that was too low.
   */
  private async searchText(
    db: EntityManager | DataSource,
    filter: Filter,
    q: string,
    { exactMatches, window }: TextSearchLimits,
  ): Promise<Page<ListingView>> {
    const matches = `search @@ websearch_to_tsquery('english', $Q)`;
    const estimate = await this.estimate(db, filter, matches, q);
    const walkRows = ((filter.limit + 1) * estimate.rows) / Math.max(estimate.matches, 1);
    if (walkRows > estimate.matches || walkRows > window / 2) {
      const few = await this.rows(
        db,
        filter,
        `WITH m AS MATERIALIZED (SELECT id, published_at FROM listings WHERE ${filter.where} AND ${matches} LIMIT ${exactMatches + 1})
         SELECT ${LISTING_COLUMNS}, (SELECT count(*) FROM m)::int AS matched FROM listings
         WHERE id IN (SELECT id FROM m ${NEWEST_FIRST} LIMIT $LIMIT) ${NEWEST_FIRST}`,
        q,
      );
      if (few.length === 0 || few[0].matched! <= exactMatches) return this.page(few, filter.limit);
    }

    const hits = await this.rows(
      db,
      filter,
      // The columns (and their casts) of the page's rows only, not of every row walked; never the tsvector.
      `SELECT ${LISTING_COLUMNS} FROM (SELECT * FROM listings WHERE ${filter.where} ${NEWEST_FIRST} LIMIT ${window}) listings
       WHERE ${matches} ${NEWEST_FIRST} LIMIT $LIMIT`,
      q,
    );
    if (hits.length > filter.limit) return this.page(hits, filter.limit);
    const [edge] = await this.rows(
      db,
      filter,
      `SELECT published_at::text AS published_key, id FROM listings WHERE ${filter.where} ${NEWEST_FIRST} OFFSET ${window - 1} LIMIT 1`,
    );
    return { items: hits.map(toListingView), nextCursor: edge ? encodeCursor([edge.published_key, edge.id]) : null };
  }

  /** The planner's estimates of the published listings the filter keeps (`rows`) and of those matching (`matches`). */
  private async estimate(
    db: EntityManager | DataSource,
    filter: Filter,
    matches: string,
    q: string,
  ): Promise<{ rows: number; matches: number }> {
    const [{ 'QUERY PLAN': plan }] = await this.explain(
      db,
      filter,
      `EXPLAIN (FORMAT JSON) SELECT 1 FROM listings WHERE ${filter.where} AND ${matches}
       UNION ALL SELECT 1 FROM listings WHERE ${filter.where}`,
      q,
    );
    const [matched, kept] = (plan[0].Plan.Plans ?? []).map((p) => p['Plan Rows']);
    return { matches: matched ?? 0, rows: kept ?? 0 };
  }

  private explain(db: EntityManager | DataSource, filter: Filter, sql: string, q: string) {
    return this.rows(db, filter, sql, q) as unknown as Promise<{ 'QUERY PLAN': ExplainedPlan[] }[]>;
  }

  /** Runs `sql` with the filter's parameters; `$Q` is the text query and `$LIMIT` one more than the page size. */
  private rows(db: EntityManager | DataSource, filter: Filter, sql: string, q?: string): Promise<(ListingRow & { matched?: number })[]> {
    const params = [...filter.params];
    const text = sql.replace(/\$Q\b/g, () => `$${params.push(q)}`).replace(/\$LIMIT\b/g, () => `$${params.push(filter.limit + 1)}`);
    return queryRows<ListingRow & { matched?: number }>(db, text, params).catch(rethrowBadCursor);
  }

  private page(rows: ListingRow[], limit: number): Page<ListingView> {
    return toPage(rows, limit, toListingView, (r) => [r.published_key, r.id]);
  }

  /** A published (or since delisted) listing. */
  async findVisible(db: EntityManager | DataSource, id: string): Promise<ListingRow | undefined> {
    const [row] = await queryRows<ListingRow>(
      db,
      `SELECT ${LISTING_COLUMNS} FROM listings WHERE id = $1 AND status IN ('published', 'delisted')`,
      [id],
    );
    return row;
  }

  /** A creator's own listings in every state, newest first; `after` is the (created_at, id) key of the previous page's last item. */
  async byCreator(
    db: EntityManager | DataSource,
    creatorId: string,
    after: unknown[] | undefined,
    limit: number,
  ): Promise<Page<ListingView>> {
    const rows = await queryRows<ListingRow & { created_key: string }>(
      db,
      `SELECT ${LISTING_COLUMNS}, created_at::text AS created_key FROM listings
       WHERE creator_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [creatorId, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    ).catch(rethrowBadCursor);
    return toPage(rows, limit, toListingView, (r) => [r.created_key, r.id]);
  }

  /** The listings of a derivation chain, in the order of `ids`. */
  async chain(db: EntityManager | DataSource, ids: string[]): Promise<AncestorRow[]> {
    return queryRows<AncestorRow>(
      db,
      'SELECT id, title, creator_id, profit FROM listings WHERE id = ANY ($1::uuid[]) ORDER BY array_position($1::uuid[], id)',
      [ids],
    );
  }
}
