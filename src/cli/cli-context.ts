import type { INestApplication } from '@nestjs/common';
import { AppConfig, ConfigError, loadConfig } from '../config/app-config';
import { CliDatabase, CliRefusal, openCliDatabase } from './cli-database';
import type { CliInput } from './password-input';

/** An initialised application and how to shut it down. */
export interface OpenedApp {
  app: INestApplication;
  close(): Promise<void>;
}

/**
 * What the CLI talks to. The process's own by default; tests pass their environment, capture the
 * output, and may open their running test application instead of a second one.
 */
export interface CliDeps {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
  stdin: CliInput;
  /** Writes a prompt without a line break (stderr). */
  prompt: (text: string) => void;
  /** The application, initialised but not listening, on the database at `url`. */
  open: (config: AppConfig, url: string) => Promise<OpenedApp>;
}

/**
 * The CLI's configuration: the environment, with jobs off (the server runs them) and quieter logs.
 * ADMIN_EMAIL/ADMIN_PASSWORD are the server's boot-time admin; the CLI reads ADMIN_PASSWORD itself.
 */
export function cliConfig(env: Record<string, string | undefined>, overrides: Record<string, string> = {}): AppConfig {
  const { ADMIN_EMAIL: _email, ADMIN_PASSWORD: _password, ...rest } = env;
  return loadConfig({ LOG_LEVEL: 'warn', ...rest, JOBS_ENABLED: 'false', ...overrides });
}

/**
 * Loads the configuration, opens the command's database and says which it is (on stderr when stdout
 * carries machine-readable output), runs `work`, closes. Answers the exit code: refusals and bad
 * configuration print their message and answer 1.
 */
export async function withDatabase(
  deps: CliDeps,
  opts: { create?: boolean; quiet?: boolean; env?: Record<string, string> },
  work: (db: CliDatabase, config: AppConfig) => Promise<number>,
): Promise<number> {
  let db: CliDatabase | undefined;
  try {
    const config = cliConfig(deps.env, opts.env);
    db = await openCliDatabase(config, { create: opts.create ?? false });
    (opts.quiet ? deps.err : deps.out)(`Database: ${db.description}`);
    return await work(db, config);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof CliRefusal) {
      deps.err(err.message);
      return 1;
    }
    throw err;
  } finally {
    await db?.close();
  }
}
