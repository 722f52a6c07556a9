import { DataSource, MigrationInterface } from 'typeorm';
import { PG_BOSS_SCHEMA } from '../../src/jobs/jobs.service';
import { dumpSchema } from '../schema/schema-dump';
import { createTestDatabase } from './test-db';

/**
 * Takes a fully migrated database down through `migrations` (the last first), lets `checkDown` look at
 * the schema then, and brings it up again: the schema must come back exactly as it was. Name every
 * later migration that changes the same tables after the one under test, so that columns come back
 * in their order.
 */
export async function expectRoundTrip(migrations: MigrationInterface[], checkDown: (schema: string) => void): Promise<void> {
  const db = await createTestDatabase();
  const ds = new DataSource({ type: 'postgres', url: db.url, extra: { max: 1 } });
  await ds.initialize();
  const qr = ds.createQueryRunner();
  try {
    const up = await dumpSchema(db.url, [PG_BOSS_SCHEMA]);
    for (const m of [...migrations].reverse()) await m.down(qr);
    checkDown(await dumpSchema(db.url, [PG_BOSS_SCHEMA]));
    for (const m of migrations) await m.up(qr);
    expect(await dumpSchema(db.url, [PG_BOSS_SCHEMA])).toBe(up);
  } finally {
    await qr.release();
    await ds.destroy();
    await db.drop();
  }
}
