import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import PgBoss from 'pg-boss';
import { runMigrations } from '../../src/database/data-source';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { PG_BOSS_SCHEMA } from '../../src/jobs/jobs.service';

export const TEMPLATE_DB = 'bazaar_template';

/**
 * One embedded PostgreSQL for the whole run. The real migrations (and pg-boss's schema) are applied
 * once to a template database; every test file then clones it (CREATE DATABASE ... TEMPLATE).
 */
export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bazaar-test-'));
  const pg = await startEmbeddedPostgres(dir, { database: TEMPLATE_DB, persistent: false });
  await runMigrations(pg.url);
  const boss = new PgBoss({ connectionString: pg.url, schema: PG_BOSS_SCHEMA, supervise: false, schedule: false });
  await boss.start();
  await boss.stop({ graceful: false, wait: true });
  const admin = new Client({ connectionString: pg.adminUrl });
  await admin.connect();
  await admin.query(`ALTER DATABASE ${TEMPLATE_DB} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
  await admin.end();
  process.env.BAZAAR_TEST_ADMIN_URL = pg.adminUrl;
  process.env.BAZAAR_TEST_SECRET = randomBytes(32).toString('base64');
  (globalThis as { __bazaarPg?: { stop(): Promise<void> } }).__bazaarPg = pg;
}
