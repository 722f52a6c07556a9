import { DataSource, EntityManager } from 'typeorm';

/**
 * Runs SQL and returns the rows. TypeORM's `query()` answers UPDATE and DELETE with
 * `[rows, affectedCount]` instead of the rows; this evens that out, so `... RETURNING` reads the same
 * for every statement.
 */
export async function queryRows<T = Record<string, unknown>>(
  db: EntityManager | DataSource,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const res: unknown = await db.query(text, params);
  if (Array.isArray(res) && res.length === 2 && Array.isArray(res[0]) && typeof res[1] === 'number') return res[0] as T[];
  return res as T[];
}
