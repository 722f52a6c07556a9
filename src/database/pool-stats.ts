import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

export interface PoolStats {
  total: number;
  idle: number;
  inUse: number;
  /** Callers queued for a connection because all `max` are in use. */
  waiting: number;
}

/** The application pool's counters, as pg reports them (TypeORM's PostgreSQL driver keeps the pool as `master`). */
export function poolStats(dataSource: DataSource): PoolStats | undefined {
  const pool = (dataSource.driver as unknown as { master?: Pool }).master;
  if (!pool) return undefined;
  return { total: pool.totalCount, idle: pool.idleCount, inUse: pool.totalCount - pool.idleCount, waiting: pool.waitingCount };
}
