import { DataSource } from 'typeorm';
import { allMigrations } from '../../migrations';
import { dataSourceOptions, where } from './data-source';
import { supportedServerVersion } from './server-compat';

export interface MigrationStatus {
  /** Names of this code's migrations the database has applied, in order. */
  applied: string[];
  /** Names of this code's migrations the database lacks, in order. */
  pending: string[];
  /** Migrations the database has that this code does not know (it was migrated by newer code). */
  unknown: string[];
}

/** Compares the database's migrations table with this code's migrations; changes nothing. */
export async function migrationStatus(url: string): Promise<MigrationStatus> {
  const ds = new DataSource(dataSourceOptions(url, { extra: { max: 1 } }));
  await ds.initialize();
  try {
    await supportedServerVersion((sql) => ds.query(sql), where(url));
    const [{ exists }] = (await ds.query(`SELECT to_regclass('schema_migrations') IS NOT NULL AS exists`)) as { exists: boolean }[];
    const done: string[] = exists
      ? ((await ds.query('SELECT name FROM schema_migrations ORDER BY id')) as { name: string }[]).map((r) => r.name)
      : [];
    const names = allMigrations.map((m) => m.name);
    return {
      applied: names.filter((n) => done.includes(n)),
      pending: names.filter((n) => !done.includes(n)),
      unknown: done.filter((n) => !names.includes(n)),
    };
  } finally {
    await ds.destroy();
  }
}
