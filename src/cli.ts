import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { createApp } from './app';
import { ensureAdmin, loadConfigOrExit, prepareDatabase } from './boot';

const USAGE = `Usage: npm run cli -- create-admin --email <address> --password <password>

Creates an admin account, or grants the admin role to an existing account (its password is then
left unchanged). Uses DATABASE_URL when set, otherwise the embedded PostgreSQL under DATA_DIR
(stop a server running on the same DATA_DIR first).`;

async function createAdmin(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' }, password: { type: 'string' } }, strict: true });
  if (!values.email || !values.password) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfigOrExit({ LOG_LEVEL: 'warn', ...process.env, JOBS_ENABLED: 'false' });
  const db = await prepareDatabase(config);
  try {
    const app = await createApp(config, db.url);
    await app.init();
    try {
      const result = await ensureAdmin(app, values.email, values.password, 'cli create-admin');
      if ('error' in result) {
        console.error(`Cannot create the admin: ${result.error}`);
        return 1;
      }
      const what = result.created ? 'Created admin account' : result.promoted ? 'Granted the admin role to' : 'Already an admin:';
      console.log(`${what} ${values.email} (id ${result.userId})`);
      return 0;
    } finally {
      await app.close();
    }
  } finally {
    await db.stop?.();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'create-admin') return createAdmin(rest);
  console.error(USAGE);
  return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
