/**
 * The CPU cost of request logging: GET /me (a real JWT) against a server with LOG_LEVEL=info (one
 * line per request, to a pipe the benchmark drains) and LOG_LEVEL=silent, alternating servers
 * BENCH_ROUNDS (2) times. Reports the server process's CPU time per request (from /proc) and the
 * throughput.   npm run bench:logs
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '../src/database/embedded-postgres';
import { benchDatabase, fmt } from './bench-db';
import { call } from './http-call';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const TICKS_PER_SECOND = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in clock ticks

const env = (url: string, port: number, logLevel: string): Record<string, string> => ({
  NODE_ENV: 'development',
  DATABASE_URL: url,
  PORT: String(port),
  DEV_ROUTES: 'false',
  JOBS_ENABLED: 'false',
  LOG_LEVEL: logLevel,
  JWT_SECRET: 'bench-jwt-secret-bench-jwt-secret-0123456789',
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  DATA_DIR: '/tmp/bazaar-bench-data',
});

/** User plus system CPU seconds of a process so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

async function startServer(
  url: string,
  port: number,
  logLevel: string,
): Promise<{ pid: number; logBytes: () => number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(__dirname, 'http-server.js')], {
    env: { ...process.env, ...env(url, port, logLevel) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      bytes += d.length;
      if (d.toString().includes('READY')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    pid: child.pid!,
    logBytes: () => bytes,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** `n` GET /me with CONCURRENCY in flight over keep-alive connections; seconds taken. */
async function load(port: number, token: string, n: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let next = 0;
  const worker = async () => {
    while (next++ < n) {
      const res = await call(port, agent, 'GET', '/me', { authorization: `Bearer ${token}` });
      if (res.status !== 200) throw new Error(`GET /me: ${res.status} ${res.body}`);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const db = await benchDatabase();
  const port = await freePort();
  try {
    const seeder = await startServer(db.url, port, 'silent');
    const credentials = { email: `bench-${Date.now()}@example.com`, password: 'bench passphrase for logging 7' };
    await call(port, undefined, 'POST', '/auth/register', {}, { ...credentials, displayName: 'Bench' });
    const login = await call(port, undefined, 'POST', '/auth/login', {}, credentials);
    const token = (JSON.parse(login.body) as { accessToken: string }).accessToken;
    await seeder.stop();

    const results: Record<string, { cpuUs: number[]; rps: number[]; bytesPerLine: number[] }> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const level of ['info', 'silent']) {
        const server = await startServer(db.url, port, level);
        try {
          await load(port, token, 2000); // warm-up
          const cpu0 = cpuSeconds(server.pid);
          const bytes0 = server.logBytes();
          const seconds = await load(port, token, REQUESTS);
          await new Promise((r) => setTimeout(r, 200)); // the last lines reach the pipe
          const cpu = cpuSeconds(server.pid) - cpu0;
          const r = (results[level] ??= { cpuUs: [], rps: [], bytesPerLine: [] });
          r.cpuUs.push((cpu / REQUESTS) * 1e6);
          r.rps.push(REQUESTS / seconds);
          r.bytesPerLine.push((server.logBytes() - bytes0) / REQUESTS);
        } finally {
          await server.stop();
        }
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`GET /me, ${REQUESTS} requests x ${ROUNDS} rounds, ${CONCURRENCY} in flight`);
    for (const [level, r] of Object.entries(results)) {
      console.log(
        `LOG_LEVEL=${level.padEnd(6)}  server CPU ${fmt(mean(r.cpuUs), 1)} µs/request (${r.cpuUs.map((x) => fmt(x, 1)).join(', ')})  ` +
          `${fmt(mean(r.rps), 0)} req/s  log ${fmt(mean(r.bytesPerLine), 0)} bytes/request`,
      );
    }
    const delta = mean(results.info.cpuUs) - mean(results.silent.cpuUs);
    console.log(`request logging: ${fmt(delta, 1)} µs CPU per request (${fmt((delta / mean(results.silent.cpuUs)) * 100, 1)} %)`);
  } finally {
    await db.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
