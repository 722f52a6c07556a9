/** The application as `npm start` serves it, started by the HTTP benchmark as a separate process. */
import 'reflect-metadata';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config/app-config';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config, config.databaseUrl!);
  await app.listen(config.port, '127.0.0.1');
  process.stdout.write('READY\n');
  process.once('SIGTERM', () => void app.close().finally(() => process.exit(0)));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
