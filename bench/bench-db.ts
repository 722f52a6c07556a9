import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createApp } from '../src/app';
import { Clock } from '../src/common/clock.service';
import { AppConfig, loadConfig } from '../src/config/app-config';
import { runMigrations } from '../src/database/data-source';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { queryRows } from '../src/database/sql';
import { SessionsService } from '../src/identity/sessions.service';

export interface BenchDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * A migrated database for a benchmark: BENCH_DATABASE_URL when set (it will be filled with bench
 * data), otherwise a throwaway embedded PostgreSQL removed at the end (with pg_stat_statements loaded
 * when `statements` is asked for).
 */
export async function benchDatabase(opts: { statements?: boolean } = {}): Promise<BenchDatabase> {
  const external = process.env.BENCH_DATABASE_URL;
  if (external) {
    await runMigrations(external);
    return { url: external, stop: async () => undefined };
  }
  const dir = mkdtempSync(join(tmpdir(), 'bazaar-bench-'));
  const settings = opts.statements ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'top' } : undefined;
  const pg = await startEmbeddedPostgres(dir, { persistent: false, settings });
  await runMigrations(pg.url);
  return {
    url: pg.url,
    stop: async () => {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * VACUUM ANALYZE of the tables the seeding filled, as autovacuum would have on a live database: their
 * plans are made from their statistics, not from a guess (a session check seq-scanned `sessions`).
 * The tables the scenarios fill are left to autovacuum, as on a database that starts empty.
 */
export async function analyzeSeeded(db: DataSource): Promise<void> {
  await queryRows(db, 'SELECT pg_stat_force_next_flush()');
  const tables = await queryRows<{ name: string }>(
    db,
    `SELECT quote_ident(relname) AS name FROM pg_stat_user_tables WHERE schemaname = 'public' AND n_tup_ins > 0`,
  );
  await queryRows(db, `VACUUM ANALYZE ${tables.map((t) => t.name).join(', ')}`);
}

/** The median (of an even count, the mean of the middle two). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** The environment of a benchmarked server on `url` (and `port`): development secrets, no dev routes, no jobs, silent. */
export function benchServerEnv(url: string, port = 0): Record<string, string> {
  return {
    NODE_ENV: 'development',
    DATABASE_URL: url,
    PORT: String(port),
    DEV_ROUTES: 'false',
    JOBS_ENABLED: 'false',
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'bench-jwt-secret-bench-jwt-secret-0123456789',
    ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    DATA_DIR: '/tmp/bazaar-bench-data',
  };
}

/** The application's configuration for an in-process benchmark server on `url`. */
export function benchAppConfig(url: string): AppConfig {
  return loadConfig(benchServerEnv(url));
}

/** A fresh admin (`<prefix>-admin-...@bench.local`) and an access token of a real session. */
export async function benchAdminToken(app: INestApplication, now: Date, prefix: string): Promise<string> {
  const ds = app.get(DataSource);
  const [admin] = await queryRows<{ id: string }>(
    ds,
    `INSERT INTO users (email, display_name, password_hash, roles, created_at, password_changed_at, updated_at, email_verified_at)
     VALUES ($1, 'Bench admin', '$argon2id$bench', '{buyer,admin}', $2, $2, $2, $2) RETURNING id`,
    [`${prefix}-admin-${randomBytes(4).toString('hex')}@bench.local`, now],
  );
  return ds.transaction(async (em) => (await app.get(SessionsService).start(em, admin.id, { ip: '127.0.0.1' }, now)).accessToken);
}

export interface SeededBenchApp {
  app: INestApplication;
  /** The signed-in admin's access token. */
  token: string;
  /** `http://127.0.0.1:<port>` of the listening app. */
  baseUrl: string;
}

/** Boots the application on a bench database, fills it (`seed`), signs an admin in, runs `use`, then stops it all. */
export async function withSeededBenchApp(
  prefix: string,
  seed: (ds: DataSource, now: Date) => Promise<void>,
  use: (bench: SeededBenchApp) => Promise<void>,
): Promise<void> {
  const db = await benchDatabase();
  const app = await createApp(benchAppConfig(db.url), db.url);
  try {
    await app.listen(0, '127.0.0.1');
    const now = app.get(Clock).now();
    await seed(app.get(DataSource), now);
    const token = await benchAdminToken(app, now, prefix);
    await use({ app, token, baseUrl: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` });
  } finally {
    await app.close();
    await db.stop();
  }
}
