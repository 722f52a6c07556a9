/**
 * Hostile bodies against the running server:   npm run bench:hostile
 *
 * The server (as `npm start` serves it, its own process) first answers `GET /health` one request at a
 * time with nothing else going on, then again while BENCH_HOSTILE_CONCURRENCY (100) clients keep
 * sending hostile bodies for BENCH_SECONDS (5): alternately a 96 KB `[0,0,...]` (49,000 elements) to
 * `POST /auth/login` and `{"email": [[[...]]]}` nested 49,000 deep. Printed: `/health` p50 / p99 both
 * ways (target: p99 < 100 ms under the hostile load), the hostile requests answered and their
 * statuses, and the server's CPU per refused body beside its CPU per normal login (a registered
 * user's right password), measured in the same run.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '../src/database/embedded-postgres';
import { benchDatabase, benchServerEnv, fmt, percentile } from './bench-db';
import { call } from './http-call';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const HOSTILE = Number(process.env.BENCH_HOSTILE_CONCURRENCY ?? 100);
const LOGINS = Number(process.env.BENCH_LOGINS ?? 40);
const TICKS_PER_SECOND = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in clock ticks
const PASSWORD = 'bench passphrase for hostile bodies 7';

const BODIES = [`[${new Array(49_000).fill('0').join(',')}]`, `{"email":${'['.repeat(49_000)}${']'.repeat(49_000)}}`];

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** `GET /health` one at a time until `until()` says stop (at least `min` of them); latencies sorted. */
async function healthLatencies(port: number, until: () => boolean, min: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const ms: number[] = [];
  while (ms.length < min || !until()) {
    const t0 = performance.now();
    const res = await call(port, agent, 'GET', '/health', {});
    ms.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`GET /health: ${res.status} ${res.body}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  agent.destroy();
  return ms.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const db = await benchDatabase();
  const port = await freePort();
  const child = spawn(process.execPath, [join(__dirname, 'framework-server.js')], {
    env: {
      ...process.env,
      BENCH_APP: 'bazaar',
      ...benchServerEnv(db.url, port),
      LOGIN_IP_FAILURES_PER_DAY: '10000000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('READY') && resolve());
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const pid = child.pid!;
    const email = `hostile-${Date.now()}@bench.local`;
    await call(port, undefined, 'POST', '/auth/register', {}, { email, password: PASSWORD, displayName: 'Bench' });

    const cpu0 = cpuSeconds(pid);
    for (let i = 0; i < LOGINS; i++) {
      const res = await call(port, undefined, 'POST', '/auth/login', {}, { email, password: PASSWORD });
      if (res.status !== 200) throw new Error(`login: ${res.status} ${res.body}`);
    }
    const loginCpuUs = ((cpuSeconds(pid) - cpu0) / LOGINS) * 1e6;

    const quiet = await healthLatencies(port, () => true, 200);

    const statuses = new Map<number, number>();
    let sent = 0;
    let stop = false;
    const agent = new Agent({ keepAlive: true, maxSockets: HOSTILE });
    const hostile = async () => {
      while (!stop) {
        const res = await call(port, agent, 'POST', '/auth/login', {}, BODIES[sent++ % BODIES.length]);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    };
    const cpu1 = cpuSeconds(pid);
    const t0 = performance.now();
    const clients = Array.from({ length: HOSTILE }, hostile);
    const loaded = await healthLatencies(port, () => performance.now() - t0 > SECONDS * 1000, 50);
    stop = true;
    await Promise.all(clients);
    const seconds = (performance.now() - t0) / 1000;
    const refusedCpuUs = ((cpuSeconds(pid) - cpu1) / sent) * 1e6;
    agent.destroy();

    const p = (xs: number[]) => `p50 ${fmt(percentile(xs, 50), 1)} / p99 ${fmt(percentile(xs, 99), 1)} ms`;
    console.log(`GET /health, nothing else going on:            ${p(quiet)} (${quiet.length} requests)`);
    console.log(`GET /health, ${HOSTILE} clients sending hostile bodies: ${p(loaded)} (${loaded.length} requests; target p99 < 100 ms)`);
    console.log(
      `hostile bodies: ${sent} in ${fmt(seconds, 1)} s (${fmt(sent / seconds, 0)}/s), statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    console.log(
      `server CPU per refused body ${fmt(refusedCpuUs, 0)} µs; per normal login ${fmt(loginCpuUs, 0)} µs (ratio ${fmt(refusedCpuUs / loginCpuUs, 3)})`,
    );
  } finally {
    child.kill('SIGTERM');
    await db.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
