import 'reflect-metadata';
import { createApp } from './app';
import { CliDeps, OpenedApp } from './cli/cli-context';
import { CREATE_ADMIN_USAGE, createAdmin } from './cli/create-admin.command';
import { ECONOMY_ROLLUPS_USAGE, economyRollups } from './cli/economy-rollups.command';
import { LEDGER_VERIFY_USAGE, ledgerVerify } from './cli/ledger-verify.command';
import { MIGRATE_USAGE, migrate } from './cli/migrate.command';
import { SEED_USAGE, seed } from './cli/seed.command';
import { AppConfig } from './config/app-config';

const USAGE = `Usage: npm run cli -- <command>

  ${CREATE_ADMIN_USAGE}
  ${ECONOMY_ROLLUPS_USAGE}
  ${LEDGER_VERIFY_USAGE}
  ${MIGRATE_USAGE}
  ${SEED_USAGE}

Every command works beside a running server. Database: DATABASE_URL when set; otherwise the embedded
PostgreSQL of DATA_DIR (default .data): the server's while it runs, else started for the command and
stopped after. A DATA_DIR without a database is refused (only \`migrate run\` creates one). Each command
first prints the database it uses.`;

/** The application without its HTTP listener (jobs off: the server runs them). */
async function openApp(config: AppConfig, url: string): Promise<OpenedApp> {
  const app = await createApp(config, url);
  app.enableShutdownHooks(); // the server drains its requests first (main.ts); a command just closes
  await app.init();
  return { app, close: () => app.close() };
}

const processDeps: CliDeps = {
  env: process.env,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  stdin: process.stdin,
  prompt: (text) => void process.stderr.write(text),
  open: openApp,
};

const COMMANDS: Record<string, (args: string[], deps: CliDeps) => Promise<number>> = {
  'create-admin': createAdmin,
  migrate,
  seed,
};

/** Runs one CLI command; answers the process exit code (0 done, 1 refused or failed, 2 usage). */
export async function runCli(argv: string[], deps: CliDeps = processDeps): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'ledger' && rest[0] === 'verify') return ledgerVerify(rest.slice(1), deps);
  if (command === 'economy' && rest[0] === 'rollups') return economyRollups(rest.slice(1), deps);
  const run = command === undefined ? undefined : COMMANDS[command];
  if (run) return run(rest, deps);
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
