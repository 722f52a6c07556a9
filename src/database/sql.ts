import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { DataSource, EntityManager } from 'typeorm';

export interface QueryOptions {
  /**
   * Run as a named prepared statement: PostgreSQL parses it once per connection and, for a statement
   * whose plan does not depend on its parameters, plans it once too. For fixed statements on hot
   * paths; not for SQL assembled from varying pieces (each variant would stay prepared on every
   * connection) nor for searches whose best plan depends on the values.
   */
  prepare?: boolean;
}

/** Prepared-statement names, one per statement text. */
const names = new Map<string, string>();

function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `bz_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

/** The pg client of `db`'s transaction, or the pool when it has none (either runs a pg QueryConfig). */
async function pgTarget(db: EntityManager | DataSource): Promise<Pool | PoolClient> {
  const em = db instanceof DataSource ? db.manager : db;
  const runner = em.queryRunner;
  if (!runner) return (em.connection.driver as unknown as { master: Pool }).master;
  // Never fall back to the pool for a manager that had a transaction: the statement would run outside it.
  if (runner.isReleased) throw new Error('the query runner of this EntityManager has been released');
  return (await runner.connect()) as PoolClient;
}

/**
 * Prepared statements that must run in this order but need not wait for one another's answers (a lock,
 * then a read that must see what the lock's previous holder committed): sent at once on the
 * transaction's connection, which pipelines them (see DatabaseModule), so they take one round trip; each
 * is still a statement of its own, with its own snapshot. Answers each statement's rows, in order.
 */
export async function queryRowsInOrder(em: EntityManager, statements: { text: string; params: unknown[] }[]): Promise<unknown[][]> {
  if (!em.queryRunner)
    throw new Error('queryRowsInOrder needs a transaction: on the pool, the statements could run on different connections');
  const client = await pgTarget(em);
  // Each query() is called before any answer is awaited, so they leave in this order.
  const sent = statements.map(({ text, params }) => client.query({ name: statementName(text), text, values: params }));
  return (await Promise.all(sent)).map((r) => r.rows);
}

/**
 * Runs SQL and returns the rows. TypeORM's `query()` answers UPDATE and DELETE with
 * `[rows, affectedCount]` instead of the rows; this evens that out, so `... RETURNING` reads the same
 * for every statement.
 */
export async function queryRows<T = Record<string, unknown>>(
  db: EntityManager | DataSource,
  text: string,
  params: unknown[] = [],
  opts: QueryOptions = {},
): Promise<T[]> {
  if (opts.prepare) {
    const config: QueryConfig = { name: statementName(text), text, values: params };
    const target = await pgTarget(db);
    return (await target.query(config)).rows as T[];
  }
  const res: unknown = await db.query(text, params);
  if (Array.isArray(res) && res.length === 2 && Array.isArray(res[0]) && typeof res[1] === 'number') return res[0] as T[];
  return res as T[];
}
