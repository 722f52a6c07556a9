import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { ensureAdmin, loadConfigOrExit, prepareDatabase } from './boot';
import { DatabaseStartError } from './database/database.errors';
import { AdminUsersService } from './identity/admin-users.service';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const { url: databaseUrl, stop: stopDatabase, stopAfter } = await prepareDatabase(config);

  const app = await createApp(config, databaseUrl);
  let closed!: () => void;
  stopAfter?.(new Promise<void>((resolve) => (closed = resolve)));
  const closeApp = () => app.close().finally(closed);
  if (stopDatabase) process.once('beforeExit', () => void stopDatabase());
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.log(`${signal}: stopping; requests in flight have ${config.shutdownGraceSeconds}s to finish`);
      void drainHttp(app.getHttpServer() as Server, config.shutdownGraceSeconds * 1000)
        .then(closeApp)
        .then(() => stopDatabase?.())
        .then(
          () => process.exit(0),
          (err) => {
            console.error(err);
            process.exit(1);
          },
        );
    });
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
  // PORT=0 listens on a free port: the one printed.
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  const base = `http://localhost:${port}`;
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

/**
 * Stops accepting connections and waits for the requests in flight: a connection is closed as soon
 * as it has no request in flight (keep-alive ones included), and every one still open after `graceMs`.
 * Only then do the jobs, the outbox and the database connections stop (app.close()).
 */
function drainHttp(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(force);
      resolve();
    });
  });
}

main().catch((err) => {
  // A database that refuses this process (other secrets) is its one message, not a stack trace.
  console.error(err instanceof DatabaseStartError ? err.message : err);
  process.exit(1);
});
