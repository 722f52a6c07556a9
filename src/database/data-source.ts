import { DataSource, DataSourceOptions } from 'typeorm';
import { allMigrations } from '../../migrations';
import { ListeningClient } from './pg-clients';
import { prepareServer } from './server-compat';

export function dataSourceOptions(url: string, extra: Partial<DataSourceOptions> = {}): DataSourceOptions {
  const pool = (extra as { extra?: object }).extra;
  return {
    type: 'postgres',
    url,
    migrations: allMigrations,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    ...extra,
    extra: { max: 20, ...pool, Client: ListeningClient },
  } as DataSourceOptions;
}

/** host:port/db of a connection URL, without its credentials. */
export function where(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 5432}${u.pathname}`;
}

/**
 * Applies every pending migration; safe to run from several processes (TypeORM takes a lock). First
 * refuses a server below PostgreSQL 15 and gives an older one the functions it lacks (server-compat.ts).
 */
export async function runMigrations(url: string): Promise<string[]> {
  const ds = new DataSource(dataSourceOptions(url, { extra: { max: 2 } }));
  await ds.initialize();
  try {
    const session = ds.createQueryRunner();
    try {
      await prepareServer((sql, params) => session.query(sql, params), where(url));
    } finally {
      await session.release();
    }
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}
