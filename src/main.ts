import 'reflect-metadata';
import { createApp } from './app';
import { ensureAdmin, loadConfigOrExit, prepareDatabase } from './boot';
import { AdminUsersService } from './identity/admin-users.service';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const { url: databaseUrl, stop: stopDatabase, stopAfter } = await prepareDatabase(config);

  const app = await createApp(config, databaseUrl);
  let closed!: () => void;
  stopAfter?.(new Promise<void>((resolve) => (closed = resolve)));
  const closeApp = () => app.close().finally(closed);
  if (stopDatabase) {
    const stop = stopDatabase;
    process.once('beforeExit', () => void stop());
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        void closeApp()
          .then(stop)
          .finally(() => process.exit(0));
      });
    }
  }
  await app.init();
  if (config.adminEmail && config.adminPassword) {
    const admin = await ensureAdmin(app, config.adminEmail, config.adminPassword, 'ADMIN_EMAIL at startup');
    if ('error' in admin) {
      console.error(`Cannot create the admin account from ADMIN_EMAIL/ADMIN_PASSWORD: ${admin.error}`);
      await closeApp();
      await stopDatabase?.();
      process.exit(1);
    }
  }
  await app.listen(config.port);
  const noAdmin = !(await app.get(AdminUsersService).adminExists());
  const base = `http://localhost:${config.port}`;
  // Last, after every start-up log line (Nest's own are at debug).
  console.log(
    [
      `Bazaar is listening on ${base}`,
      `  API docs:  ${base}/docs  (OpenAPI JSON: ${base}/docs-json)`,
      `  Health:    ${base}/health/live, ${base}/health/ready; metrics: ${base}/metrics`,
      noAdmin ? `  First admin: set ADMIN_EMAIL and ADMIN_PASSWORD before starting, or run` : '',
      noAdmin ? `    npm run cli -- create-admin --email you@example.com   (asks for the password)` : '',
      noAdmin ? `    (in the Docker image, without the dev dependencies: node dist/src/cli.js create-admin ...)` : '',
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
