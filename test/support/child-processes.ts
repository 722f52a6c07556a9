import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** The server and the CLI as child processes, run from the TypeScript sources (test/support/swc-register.cjs). */

const ROOT = join(__dirname, '..', '..');
const REGISTER = join(__dirname, 'swc-register.cjs');

/** The environment of a child: this one's without anything pointing at the test database or an admin. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const { DATABASE_URL: _url, ADMIN_EMAIL: _email, ADMIN_PASSWORD: _password, ...rest } = process.env;
  return { ...rest, NODE_ENV: 'development', LOG_LEVEL: 'warn', ...env };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `npm run cli -- <args>` (src/cli.ts) to its end, `stdin` piped in. */
export function runCliProcess(args: string[], env: Record<string, string>, stdin = ''): Promise<CliRun> {
  const child = spawn(process.execPath, ['-r', REGISTER, join(ROOT, 'src', 'cli.ts'), ...args], { cwd: ROOT, env: childEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface ServerProcess {
  child: ChildProcess;
  /** Where it listens, e.g. http://127.0.0.1:41234 (start it with PORT=0: a port of its own, no race for one). */
  base: string;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts `npm start` (src/main.ts) and waits until it listens. */
export async function startServerProcess(env: Record<string, string>, timeoutMs = 120_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['-r', REGISTER, join(ROOT, 'src', 'main.ts')], { cwd: ROOT, env: childEnv(env) });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${output}`)), timeoutMs);
    const onData = (d: Buffer) => {
      output += d;
      const listening = /Bazaar is listening on http:\/\/localhost:(\d+)\n/.exec(output);
      if (listening) {
        clearTimeout(timer);
        resolve(listening[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}):\n${output}`));
    });
  });
  return {
    child,
    base: `http://127.0.0.1:${port}`,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
