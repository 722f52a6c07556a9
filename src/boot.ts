import type { INestApplicationContext } from '@nestjs/common';
import { AppError } from './common/errors';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { DatabaseStartError } from './database/database.errors';
import { runMigrations } from './database/data-source';
import { EmbeddedDatabase, startEmbeddedPostgres } from './database/embedded-postgres';
import { AdminUsersService, EnsureAdminResult } from './identity/admin-users.service';

/** Startup steps shared by the server (main.ts) and the CLI (cli.ts). */

/** Loads the configuration, or prints what is wrong with it and exits. */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): AppConfig {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

export interface PreparedDatabase {
  url: string;
  /** Stops the embedded PostgreSQL; undefined when DATABASE_URL points elsewhere. */
  stop?: () => Promise<void>;
  /** Makes the embedded PostgreSQL's stop (its own exit hook's included) wait for `closed`. */
  stopAfter?: (closed: Promise<unknown>) => void;
}

/**
 * DATABASE_URL when set, otherwise the embedded PostgreSQL under DATA_DIR; then the migrations. A
 * database that cannot be used as it is (DatabaseStartError) is one line on stderr and exit code 1.
 */
export async function prepareDatabase(config: AppConfig, log: (line: string) => void = console.log): Promise<PreparedDatabase> {
  let url = config.databaseUrl;
  let embedded: EmbeddedDatabase | undefined;
  try {
    if (!url) {
      log(`Starting embedded PostgreSQL (data in ${config.dataDir}/pg) ...`);
      embedded = await startEmbeddedPostgres(config.dataDir);
      url = embedded.url;
    }
    const applied = await runMigrations(url);
    if (applied.length) log(`Applied migrations: ${applied.join(', ')}`);
  } catch (err) {
    if (!(err instanceof DatabaseStartError)) throw err;
    await embedded?.stop();
    console.error(err.message);
    process.exit(1);
  }
  return { url, stop: embedded?.stop, stopAfter: embedded?.stopAfter };
}

/** Creates or promotes the admin account for `email`; a refused password is reported, not thrown. */
export async function ensureAdmin(
  app: INestApplicationContext,
  email: string,
  password: string,
  reason: string,
): Promise<EnsureAdminResult | { error: string }> {
  try {
    return await app.get(AdminUsersService).ensureAdmin(email, password, reason);
  } catch (err) {
    if (err instanceof AppError && err.status < 500) return { error: err.detail ?? err.code };
    throw err;
  }
}
