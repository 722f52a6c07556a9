import 'reflect-metadata';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { runMigrations } from './database/data-source';
import { startEmbeddedPostgres } from './database/embedded-postgres';
import { createApp } from './app';

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  let databaseUrl = config.databaseUrl;
  let stopDatabase: (() => Promise<void>) | undefined;
  if (!databaseUrl) {
    console.log(`Starting embedded PostgreSQL (data in ${config.dataDir}/pg) ...`);
    const embedded = await startEmbeddedPostgres(config.dataDir);
    databaseUrl = embedded.url;
    stopDatabase = embedded.stop;
  }
  const applied = await runMigrations(databaseUrl);
  if (applied.length) console.log(`Applied migrations: ${applied.join(', ')}`);

  const app = await createApp(config, databaseUrl);
  if (stopDatabase) {
    const stop = stopDatabase;
    process.once('beforeExit', () => void stop());
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        void app
          .close()
          .then(stop)
          .finally(() => process.exit(0));
      });
    }
  }
  await app.listen(config.port);
  const base = `http://localhost:${config.port}`;
  console.log(
    [
      `Bazaar is listening on ${base}`,
      `  API docs:  ${base}/docs  (OpenAPI JSON: ${base}/docs-json)`,
      `  Health:    ${base}/health`,
      `  First admin: set ADMIN_EMAIL and ADMIN_PASSWORD before starting, or run`,
      `    npm run cli -- create-admin --email you@example.com --password '<a long password>'`,
      config.devRoutes ? `  Dev routes enabled under ${base}/dev (clock, jobs, mailbox)` : '',
    ]
      .filter(Boolean)
      .join('\n'),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
