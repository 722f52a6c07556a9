import { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AppOptions, createApp } from '../../src/app';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { createTestDatabase, TestDatabase } from './test-db';

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  db: TestDatabase;
  dataSource: DataSource;
  /** A supertest request bound to the app's HTTP server. */
  http(): ReturnType<typeof request>;
  /** Raw SQL against the test database (as the application's user). */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** Boots the real application on its own freshly migrated database (`opts`: e.g. where its log lines go). */
export async function startTestApp(env: Record<string, string> = {}, opts: AppOptions = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const t = await bootTestApp(db, env, opts);
  return {
    ...t,
    close: async () => {
      await t.close();
      await db.drop();
    },
  };
}

/**
 * A second server process, in this one, on `t`'s database (as two instances behind a load balancer
 * would be); closing it leaves the database to `t`.
 */
export function startTestAppBeside(t: TestApp, env: Record<string, string> = {}): Promise<TestApp> {
  return bootTestApp(t.db, env, {});
}

async function bootTestApp(db: TestDatabase, env: Record<string, string>, opts: AppOptions): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    DEV_ROUTES: 'true',
    JOBS_ENABLED: 'false',
    JWT_SECRET: `${process.env.BAZAAR_TEST_SECRET}-jwt-secret-for-tests-only`,
    ENCRYPTION_KEY: process.env.BAZAAR_TEST_SECRET ?? '',
    DATABASE_POOL_SIZE: '10',
    ...env,
  });
  const app = await createApp(config, db.url, opts);
  await app.init().catch(async (err: unknown) => {
    await app.close().catch(() => undefined); // a refused start (other secrets) leaves nothing open
    throw err;
  });
  await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  const dataSource = app.get(DataSource);
  return {
    app,
    config,
    db,
    dataSource,
    http: () => request(app.getHttpServer()),
    sql: (text, params) => dataSource.query(text, params),
    close: () => app.close(),
  };
}

/** Boots the application (with `env`) for the enclosing describe block and closes it afterwards; `use` receives it once up. */
export function useTestApp(use: (t: TestApp) => void, env: Record<string, string> = {}): void {
  let t: TestApp | undefined;
  beforeAll(async () => {
    t = await startTestApp(env);
    use(t);
  });
  afterAll(() => t?.close());
}
