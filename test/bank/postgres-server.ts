import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/database/embedded-postgres';
import { placeEmbeddedPostgres, removeData } from '../../src/database/postgres-placement';
import { initdb, PostgresProgram, RunningPostgres, startPostgres } from '../../src/database/postgres-process';

/**
 * The bank test's PostgreSQL: the embedded-postgres package's binaries run as a server of their own
 * (not inside a Bazaar process), in a temp dir on a free port, so that the harness can stop and start
 * it under the nodes (pg_ctl -m fast / -m immediate) while they keep their DATABASE_URL.
 */
export interface PostgresServer {
  url: string;
  /**
   * Stops the server with pg_ctl's shutdown `mode` and starts it again on the same data and port;
   * `whileDown` runs in between.
   */
  restart(mode: 'fast' | 'immediate', whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'bazaar-bank';
const DATABASE = 'bank';

export async function startPostgresServer(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'bazaar-bank-'));
  const placement = placeEmbeddedPostgres(dir);
  const program: PostgresProgram = { ...placement };
  await initdb(program, USER, PASSWORD, ['--encoding=UTF8', '--locale=C']);
  const port = await freePort();
  const args = ['-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'];
  let server: RunningPostgres = await startPostgres(program, args);
  const url = (db: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${db}`;
  const admin = new Client({ connectionString: url('postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  return {
    url: url(DATABASE),
    restart: async (mode, whileDown) => {
      await pgCtl(program, ['stop', '-D', program.pgData, '-m', mode, '-w']);
      await server.stop();
      await whileDown?.();
      server = await startPostgres(program, args);
    },
    stop: async () => {
      await server.stop();
      removeData(placement, dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function pgCtl(p: PostgresProgram, args: string[]): Promise<void> {
  const child = spawn(join(p.nativeDir, 'bin', 'pg_ctl'), args, {
    cwd: '/',
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(p.runAs ? { uid: p.runAs.uid, gid: p.runAs.gid } : {}),
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`pg_ctl ${args.join(' ')}: exit ${code}\n${output}`))));
  });
}
