import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** What the global setup leaves to the teardown (both run in Jest's main process). */
export interface TestRun {
  __bazaarPg?: { stop(): Promise<void> };
}

function env(name: 'BAZAAR_TEST_ADMIN_URL' | 'BAZAAR_TEST_TEMPLATE'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest (global setup)`);
  return value;
}

/** The URL of database `name` on the server of `serverUrl`. */
export function databaseUrl(serverUrl: string, name: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Runs SQL on the test server's maintenance database (outside any app's pool). */
export async function onServer(sql: string): Promise<void> {
  const admin = new Client({ connectionString: env('BAZAAR_TEST_ADMIN_URL') });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh database for one test file, cloned from the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE ${name} TEMPLATE ${env('BAZAAR_TEST_TEMPLATE')}`);
  return {
    url: databaseUrl(env('BAZAAR_TEST_ADMIN_URL'), name),
    name,
    drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** Drops this run's template (on an external server; the embedded one goes away as a whole). */
export async function dropTemplate(): Promise<void> {
  const template = env('BAZAAR_TEST_TEMPLATE');
  await onServer(`ALTER DATABASE ${template} WITH IS_TEMPLATE false`);
  await onServer(`DROP DATABASE IF EXISTS ${template}`);
}
