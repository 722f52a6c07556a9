import { AppConfig } from '../config/app-config';
import { runMigrations, where } from '../database/data-source';
import { hasEmbeddedData, runningEmbeddedPostgres, startEmbeddedPostgres } from '../database/embedded-postgres';
import { migrationStatus } from '../database/migration-status';

/** The database a CLI command works on, and how to let go of it. */
export interface CliDatabase {
  url: string;
  /** One line for the user: which database (host:port/db), embedded or external, and why that one. */
  description: string;
  close(): Promise<void>;
}

/** A refusal the CLI prints as it is (exit code 1). */
export class CliRefusal extends Error {}

export { where };

/**
 * DATABASE_URL when set; otherwise the embedded PostgreSQL of DATA_DIR: the running one (a server's),
 * as one more client, or, when none runs, started for this command and stopped after it. Never a new
 * database unless `create` (migrate run): a DATA_DIR without one is refused, so a mistyped DATA_DIR
 * cannot report success on an empty database of its own.
 */
export async function openCliDatabase(config: AppConfig, opts: { create: boolean }): Promise<CliDatabase> {
  const none = async () => undefined;
  if (config.databaseUrl) {
    return { url: config.databaseUrl, description: `external PostgreSQL ${where(config.databaseUrl)} (DATABASE_URL)`, close: none };
  }
  const dir = config.dataDir;
  const running = runningEmbeddedPostgres(dir);
  if (running) {
    return {
      url: running.url,
      description: `embedded PostgreSQL ${where(running.url)} (running on DATA_DIR ${dir}, pid ${running.pid})`,
      close: none,
    };
  }
  const exists = hasEmbeddedData(dir);
  if (!exists && !opts.create) {
    throw new CliRefusal(
      [
        `No database: DATA_DIR ${dir} holds no embedded PostgreSQL and none is running on it. Nothing done.`,
        `Start the server on it (npm start), point DATA_DIR at the server's data, set DATABASE_URL,`,
        `or create the database: npm run cli -- migrate run`,
      ].join('\n'),
    );
  }
  const embedded = await startEmbeddedPostgres(dir);
  const how = exists ? 'started for this command: no server is running on it' : 'created by this command';
  return { url: embedded.url, description: `embedded PostgreSQL ${where(embedded.url)} (DATA_DIR ${dir}, ${how})`, close: embedded.stop };
}

/** Refuses a database whose schema is not this code's: commands other than `migrate` never migrate. */
export async function assertMigrated(url: string): Promise<void> {
  const status = await migrationStatus(url);
  if (status.pending.length) {
    throw new CliRefusal(
      `The database lacks ${status.pending.length} migration(s) (${status.pending.join(', ')}): run \`npm run cli -- migrate run\` first (the server applies them when it starts).`,
    );
  }
}

export { migrationStatus, runMigrations };
