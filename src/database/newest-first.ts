import { DataSource, EntityManager } from 'typeorm';
import { rethrowBadCursor } from '../common/cursors';
import { decodeCursor, Page, pageLimit, PageQuery, toPage } from '../common/pagination';
import { queryRows } from './sql';

/** The conditions of a filtered list and their parameters, numbered as they are added. */
export class SqlConditions {
  readonly list: string[] = [];
  readonly params: unknown[] = [];

  param(value: unknown): string {
    return `$${this.params.push(value)}`;
  }

  /** Adds `condition(param)` when `value` is given. */
  when<T>(value: T | undefined, condition: (param: string) => string): this {
    if (value !== undefined) this.list.push(condition(this.param(value)));
    return this;
  }
}

/** An admin list's created-at range (`from` inclusive, `to` exclusive) and page. */
export interface CreatedRangePage extends PageQuery {
  from?: string;
  to?: string;
}

/**
 * A page of the rows of `select` (with `created_at` and `id` among its columns) newest first, keyset on
 * (created_at, id), narrowed by `where` and the created-at range of `q`.
 */
export async function newestFirst<R extends { id: string }, T>(
  db: EntityManager | DataSource,
  select: string,
  where: SqlConditions,
  q: CreatedRangePage,
  map: (row: R) => T,
): Promise<Page<T>> {
  const limit = pageLimit(q);
  const after = decodeCursor(q.cursor, 2);
  where.when(q.from, (p) => `created_at >= ${p}::timestamptz`).when(q.to, (p) => `created_at < ${p}::timestamptz`);
  if (after) where.list.push(`(created_at, id) < (${where.param(after[0])}::timestamptz, ${where.param(after[1])}::uuid)`);
  const rows = await queryRows<R & { created_key: string }>(
    db,
    `SELECT listed.*, listed.created_at::text AS created_key FROM (${select}) AS listed ${where.list.length ? `WHERE ${where.list.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT ${where.param(limit + 1)}`,
    where.params,
  ).catch(rethrowBadCursor);
  return toPage(rows, limit, map, (r) => [r.created_key, r.id]);
}
