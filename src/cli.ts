import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { parseArgs } from 'node:util';
import { createApp } from './app';
import { ensureAdmin, prepareDatabase } from './boot';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { passwordProblem } from './identity/passwords/password.policy';

const USAGE = `Usage: npm run cli -- create-admin --email <address> --password <password>

Creates an admin account, or grants the admin role to an existing account when --password is that
account's own password (which is left unchanged); any other password is refused (exit code 1). Uses DATABASE_URL when set, otherwise the embedded PostgreSQL under DATA_DIR
(stop a server running on the same DATA_DIR first).`;

/** An initialised application and how to shut it (and its database) down. */
export interface OpenedApp {
  app: INestApplicationContext;
  close(): Promise<void>;
}

/**
 * What the CLI talks to. Tests pass their own environment, capture the output, and open their running
 * test application instead of a second one (two Nest applications in one process would share
 * passport's global strategy registry).
 */
export interface CliDeps {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
  open: (config: AppConfig, log: (line: string) => void) => Promise<OpenedApp>;
}

/** DATABASE_URL or the embedded PostgreSQL, migrated; then the application without its HTTP listener. */
async function openApp(config: AppConfig, log: (line: string) => void): Promise<OpenedApp> {
  const db = await prepareDatabase(config, log);
  try {
    const app = await createApp(config, db.url);
    await app.init();
    return {
      app,
      close: async () => {
        try {
          await app.close();
        } finally {
          await db.stop?.();
        }
      },
    };
  } catch (err) {
    await db.stop?.();
    throw err;
  }
}

const processDeps: CliDeps = {
  env: process.env,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  open: openApp,
};

async function createAdmin(args: string[], deps: CliDeps): Promise<number> {
  let values: { email?: string; password?: string };
  try {
    ({ values } = parseArgs({ args, options: { email: { type: 'string' }, password: { type: 'string' } }, strict: true }));
  } catch {
    // parseArgs would quote the offending argument, which may be a mistyped password: not echoed.
    deps.err(`Unknown or malformed arguments.\n\n${USAGE}`);
    return 2;
  }
  if (!values.email || !values.password) {
    deps.err(USAGE);
    return 2;
  }
  // Checked before anything starts, so a typo costs no database start-up.
  const problem = passwordProblem(values.password);
  if (problem) {
    deps.err(`Cannot create the admin: password ${problem}`);
    return 1;
  }
  let config: AppConfig;
  try {
    config = loadConfig({ LOG_LEVEL: 'warn', ...deps.env, JOBS_ENABLED: 'false' });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    deps.err(err.message);
    return 1;
  }
  const opened = await deps.open(config, deps.out);
  try {
    const result = await ensureAdmin(opened.app, values.email, values.password, 'cli create-admin');
    if ('error' in result) {
      deps.err(`Cannot create the admin: ${result.error}`);
      return 1;
    }
    const what = result.created ? 'Created admin account' : result.promoted ? 'Granted the admin role to' : 'Already an admin:';
    deps.out(`${what} ${values.email} (id ${result.userId})`);
    return 0;
  } finally {
    await opened.close();
  }
}

/** Runs one CLI command; answers the process exit code (0 done, 1 refused or failed, 2 usage). */
export async function runCli(argv: string[], deps: CliDeps = processDeps): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'create-admin') return createAdmin(rest, deps);
  deps.err(USAGE);
  return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
}

if (require.main === module) {
  runCli(process.argv.slice(2))
    .then((code) => process.exit(code))
    .catch((err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
