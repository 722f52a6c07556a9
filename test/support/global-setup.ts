import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import PgBoss from 'pg-boss';
import { runMigrations } from '../../src/database/data-source';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { PG_BOSS_SCHEMA } from '../../src/jobs/jobs.service';
import { databaseUrl, TestRun } from './test-db';

/**
 * One PostgreSQL for the whole run: the embedded one, or the server of DATABASE_URL when set (its
 * database serves as the maintenance database; the user needs CREATEDB). The real migrations (and
 * pg-boss's schema) are applied once to a template database of this run; every test file then clones
 * it (CREATE DATABASE ... TEMPLATE). The teardown drops the template again.
 */
export default async function globalSetup(): Promise<void> {
  const template = `bazaar_template_${randomBytes(4).toString('hex')}`;
  let adminUrl: string;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${template}`);
    await admin.end();
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'bazaar-test-'));
    const pg = await startEmbeddedPostgres(dir, { database: template, persistent: false });
    adminUrl = pg.adminUrl;
    (globalThis as TestRun).__bazaarPg = { stop: () => pg.stop().then(() => rmSync(dir, { recursive: true, force: true })) };
  }
  const url = databaseUrl(adminUrl, template);
  await runMigrations(url);
  const boss = new PgBoss({ connectionString: url, schema: PG_BOSS_SCHEMA, supervise: false, schedule: false });
  await boss.start();
  await boss.stop({ graceful: false, wait: true });
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`ALTER DATABASE ${template} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
  await admin.end();
  process.env.BAZAAR_TEST_ADMIN_URL = adminUrl;
  process.env.BAZAAR_TEST_TEMPLATE = template;
  process.env.BAZAAR_TEST_SECRET = randomBytes(32).toString('base64');
}
