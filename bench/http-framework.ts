/**
 * The HTTP framework, side by side in one run:   npm run bench:framework
 *
 * Servers, each in its own process, alternated over BENCH_ROUNDS (3) rounds on one database: Bazaar
 * as `npm start` serves it, and a trivial Nest route (`GET /me` behind a guard verifying the token as
 * Bazaar's does, same secret, no database) on Fastify. BENCH_BASELINE_DIR, the root of another checkout built with
 * `npm run bench:build` (for example fffa908, the last commit on Express, whose trivial server also
 * runs on Express), adds its Bazaar and its trivial route on BENCH_BASELINE_PLATFORM (express) to
 * every round.
 *
 * Bazaar is measured on `GET /me` (a real JWT: session and user reads), `GET /listings`,
 * `POST /auth/login` with a wrong password and `POST /credit-transfers` (value moving, idempotent);
 * the trivial routes on `GET /me`. Each measurement keeps BENCH_CONCURRENCY (32) requests in flight
 * over keep-alive connections for BENCH_SECONDS (3) after a warm-up, and reads the server's CPU time
 * from /proc, with the CPU time of the PostgreSQL server's processes and of this process (the load
 * generator). Printed: medians over the rounds, `GET /me` ÷ the trivial route on the same framework
 * (requests per second, and the inverse ratio of all the CPU a request takes: the rate each could
 * reach on the whole machine, which other work running beside the benchmark moves less), and each
 * route on one Bazaar ÷ the other.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createApp } from '../src/app';
import { priceOf } from '../src/catalog/pricing';
import { Clock } from '../src/common/clock.service';
import { loadConfig } from '../src/config/app-config';
import { freePort } from '../src/database/embedded-postgres';
import { queryRows } from '../src/database/sql';
import { SessionsService } from '../src/identity/sessions.service';
import { analyzeSeeded, benchDatabase, benchServerEnv, fmt, median, percentile } from './bench-db';
import { fundWallets, publishListings } from './bench-seed';
import { call } from './http-call';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const SENDERS = 500;
const LISTINGS = 200;
const BASELINE_DIR = process.env.BENCH_BASELINE_DIR;
const BASELINE_PLATFORM = process.env.BENCH_BASELINE_PLATFORM ?? 'express';
/** Extra node arguments for the servers, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them. */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** Only the scenarios whose names contain this (BENCH_ONLY='GET /me'). */
const ONLY = process.env.BENCH_ONLY ?? '';
const TICKS_PER_SECOND = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in clock ticks

const env = (url: string, port: number): Record<string, string> => ({
  ...benchServerEnv(url, port),
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  TRUST_PROXY: 'loopback',
  FRAUD_EVALUATION: 'false',
  ACCESS_TOKEN_TTL_SECONDS: String(24 * 3600),
  REAUTH_WINDOW_SECONDS: '3600',
  CREDIT_GIFT_CAP_30D: '1000000000000',
  LOGIN_IP_FAILURES_PER_DAY: '10000000',
});

interface Server {
  label: string;
  /** Where framework-server.js is (dist/bench/bench of a checkout). */
  dir: string;
  app: 'bazaar' | 'trivial';
  platform?: string;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU seconds so far of each live process of the PostgreSQL server (backends, background workers). */
async function databaseCpu(stats: Client): Promise<Map<number, number>> {
  const { rows } = await stats.query<{ pid: number }>('SELECT pid FROM pg_stat_activity');
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      cpu.set(pid, cpuSeconds(pid));
    } catch {
      // it exited meanwhile
    }
  }
  return cpu;
}

const spent = (before: Map<number, number>, after: Map<number, number>): number =>
  [...after].reduce((sum, [pid, s]) => sum + s - (before.get(pid) ?? 0), 0);

async function start(s: Server, url: string, port: number): Promise<{ pid: number; platform: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [...NODE_ARGS, join(s.dir, 'framework-server.js')], {
    env: { ...process.env, ...env(url, port), BENCH_APP: s.app, BENCH_PLATFORM: s.platform ?? '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const platform = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      if (out.length < 1000) out += d.toString();
      const m = /READY (\w+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`${s.label} exited with ${code}`)));
  });
  return {
    pid: child.pid!,
    platform,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: object;
  ok: number;
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  /** CPU per request (µs): the server, PostgreSQL, the load generator. */
  cpuUs: number;
  dbCpuUs: number;
  clientCpuUs: number;
}

/** Requests from `make` for `seconds`, CONCURRENCY in flight; throws on an unexpected status. */
async function load(port: number, pid: number, stats: Client, seconds: number, make: (i: number) => Req): Promise<Figures> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies: number[] = [];
  let i = 0;
  const db0 = await databaseCpu(stats);
  const client0 = process.cpuUsage();
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const r = make(i++);
      const s = performance.now();
      const res = await call(port, agent, r.method, r.path, r.headers, r.body);
      latencies.push(performance.now() - s);
      if (res.status !== r.ok) throw new Error(`${r.method} ${r.path}: ${res.status} ${res.body.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  const client = process.cpuUsage(client0);
  const db = spent(db0, await databaseCpu(stats));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const n = latencies.length;
  return {
    rps: n / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuUs: (cpu / n) * 1e6,
    dbCpuUs: (db / n) * 1e6,
    clientCpuUs: (client.user + client.system) / n,
  };
}

interface Seeded {
  tokens: string[];
  users: string[];
}

/** Senders with sessions (email verified, re-authenticated) and credits, published listings. */
async function seed(url: string): Promise<Seeded> {
  const config = loadConfig(env(url, 0));
  const app = await createApp(config, url);
  await app.init();
  try {
    const db = app.get(DataSource);
    const now = app.get(Clock).now();
    const hash = '$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hiZW5jaA$bench'; // never used to log in
    const prefix = `fw-${randomBytes(3).toString('hex')}-`;
    const users = (
      await queryRows<{ id: string }>(
        db,
        `INSERT INTO users (email, display_name, password_hash, roles, created_at, password_changed_at, updated_at, email_verified_at)
         SELECT $1 || i || '@bench.local', 'Bench ' || i, $2, '{buyer,creator}', $3, $3, $3, $3 FROM generate_series(1, $4) i RETURNING id`,
        [prefix, hash, now, SENDERS],
      )
    ).map((r) => r.id);
    await queryRows(db, `INSERT INTO creators (user_id, created_at) SELECT unnest($1::uuid[]), $2`, [users.slice(0, 10), now]);
    const price = priceOf(500n, [], config.economy.platformMarkupPercent);
    const listings = await queryRows<{ id: string }>(
      db,
      `INSERT INTO listings (creator_id, title, description, category, profit, derivation_cost, platform_fee, price, created_at, updated_at)
       SELECT ($1::uuid[])[1 + i % 10], 'Bench item ' || i, 'A benchmark item', 'bench', 500, 0, $2, $3, $4, $4
       FROM generate_series(1, $5) i RETURNING id`,
      [users.slice(0, 10), String(price.platformFee), String(price.price), now, LISTINGS],
    );
    const ids = listings.map((r) => r.id);
    await publishListings(db, ids, now);
    await fundWallets(app, users, 10_000_000n);
    const sessions = app.get(SessionsService);
    const tokens: string[] = [];
    await db.transaction(async (em) => {
      for (const id of users) tokens.push((await sessions.start(em, id, { ip: '127.0.0.1' }, now)).accessToken);
    });
    await analyzeSeeded(db);
    return { tokens, users };
  } finally {
    await app.close();
  }
}

const ipOf = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function scenarios(s: Seeded, app: Server['app']): [string, (i: number) => Req][] {
  const me = (i: number): Req => ({ method: 'GET', path: '/me', headers: { authorization: `Bearer ${s.tokens[i % SENDERS]}` }, ok: 200 });
  if (app === 'trivial') return [['GET /me', me]];
  return [
    ['GET /me', me],
    ['GET /listings', () => ({ method: 'GET', path: '/listings?limit=20', headers: {}, ok: 200 })],
    [
      // an unknown address costs what a wrong password does (a dummy hash is verified) and locks nothing
      'POST /auth/login (wrong password)',
      (i) => ({
        method: 'POST',
        path: '/auth/login',
        headers: { 'x-forwarded-for': ipOf(i) },
        body: { email: `nobody-${randomUUID()}@bench.local`, password: 'not the password at all' },
        ok: 401,
      }),
    ],
    [
      'POST /credit-transfers',
      (i) => ({
        method: 'POST',
        path: '/credit-transfers',
        headers: {
          authorization: `Bearer ${s.tokens[i % SENDERS]}`,
          'idempotency-key': randomUUID(),
          'x-forwarded-for': ipOf(i % SENDERS),
        },
        body: { toUserId: s.users[(i + 1) % SENDERS], amount: 100 },
        ok: 201,
      }),
    ],
  ];
}

async function main(): Promise<void> {
  const here = __dirname;
  const servers: Server[] = [
    { label: 'Bazaar', dir: here, app: 'bazaar' },
    { label: 'trivial', dir: here, app: 'trivial' },
  ];
  if (BASELINE_DIR) {
    const dir = join(BASELINE_DIR, 'dist/bench/bench');
    servers.push({ label: 'baseline Bazaar', dir, app: 'bazaar' });
    servers.push({ label: 'baseline trivial', dir, app: 'trivial', platform: BASELINE_PLATFORM });
  }
  const db = await benchDatabase();
  const stats = new Client({ connectionString: db.url });
  try {
    await stats.connect();
    const seeded = await seed(db.url);
    const port = await freePort();
    const results = new Map<string, Figures[]>();
    const platforms = new Map<string, string>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of round % 2 ? [...servers].reverse() : servers) {
        const server = await start(s, db.url, port);
        platforms.set(s.label, server.platform);
        try {
          for (const [name, make] of scenarios(seeded, s.app).filter(([n]) => n.includes(ONLY))) {
            await load(port, server.pid, stats, 1, make); // warm-up
            const f = await load(port, server.pid, stats, SECONDS, make);
            const key = `${s.label} (${server.platform})|${name}`;
            results.set(key, [...(results.get(key) ?? []), f]);
            console.error(
              `round ${round + 1} ${key}: ${fmt(f.rps, 0)} req/s, CPU µs/request: server ${fmt(f.cpuUs, 0)}, PostgreSQL ${fmt(f.dbCpuUs, 0)}, load generator ${fmt(f.clientCpuUs, 0)}`,
            );
          }
        } finally {
          await server.stop();
        }
      }
    }
    console.log(
      `\n${ROUNDS} rounds x ${SECONDS} s, ${CONCURRENCY} in flight, LOG_LEVEL=${env('', 0).LOG_LEVEL}, load average ${loadavg()
        .map((l) => fmt(l))
        .join(' ')}; medians (req/s, p50 / p99 ms, CPU µs per request: server, PostgreSQL, load generator)`,
    );
    const row = (key: string) => {
      const fs = results.get(key)!;
      const [label, name] = key.split('|');
      const m = (f: (x: Figures) => number, digits = 0) => fmt(median(fs.map(f)), digits);
      return `${label.padEnd(34)} ${name.padEnd(36)} ${m((f) => f.rps).padStart(7)}  ${m((f) => f.p50, 1)} / ${m((f) => f.p99, 1)}  ${m((f) => f.cpuUs)} · ${m((f) => f.dbCpuUs)} · ${m((f) => f.clientCpuUs)} µs`;
    };
    for (const key of results.keys()) console.log(row(key));
    // GET /me of each Bazaar against the trivial route on the same platform, round by round.
    const ratio = (a: string, b: string) => {
      const xs = results.get(`${a}|GET /me`);
      const ys = results.get(`${b}|GET /me`);
      if (!xs || !ys) return;
      const rs = xs.map((x, k) => x.rps / ys[k].rps);
      // What the machine could serve on its CPU alone: the load changes less of it than of a rate.
      const cpu = (f: Figures) => f.cpuUs + f.dbCpuUs + f.clientCpuUs;
      const cs = xs.map((x, k) => cpu(ys[k]) / cpu(x));
      console.log(
        `GET /me: ${a} ÷ ${b} = ${fmt(median(rs), 2)} (rounds ${rs.map((r) => fmt(r, 2)).join(', ')}); ` +
          `by CPU per request (server + PostgreSQL + load generator) ${fmt(median(cs), 2)} (rounds ${cs.map((r) => fmt(r, 2)).join(', ')})`,
      );
    };
    const label = (s: Server) => `${s.label} (${platforms.get(s.label)})`;
    for (const b of servers.filter((s) => s.app === 'bazaar')) {
      for (const t of servers.filter((s) => s.app === 'trivial')) {
        if (platforms.get(t.label) === platforms.get(b.label)) ratio(label(b), label(t));
      }
    }
    const bazaars = servers.filter((s) => s.app === 'bazaar');
    if (bazaars.length === 2) {
      for (const [name] of scenarios(seeded, 'bazaar').filter(([n]) => n.includes(ONLY))) {
        const xs = results.get(`${label(bazaars[0])}|${name}`)!;
        const ys = results.get(`${label(bazaars[1])}|${name}`)!;
        const rs = xs.map((x, k) => x.rps / ys[k].rps);
        console.log(
          `${name}: ${label(bazaars[0])} ÷ ${label(bazaars[1])} = ${fmt(median(rs), 2)} (rounds ${rs.map((r) => fmt(r, 2)).join(', ')})`,
        );
      }
    }
  } finally {
    await stats.end();
    await db.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
