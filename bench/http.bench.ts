/**
 * Item purchases over HTTP with real JWTs, against the framework's ceiling (an authenticated GET) and
 * the database's (pgbench TPC-B on the same PostgreSQL).   npm run bench:http
 *
 * (a) uniform: BENCH_BUYERS (10,000) buyers over BENCH_LISTINGS (1,000) listings; (b) hot: every buyer
 * buys the same listing. The server runs in its own process; the load generator keeps BENCH_CONCURRENCY
 * requests in flight over keep-alive connections.
 *
 * Both scenarios run with the fraud rules off (FRAUD_EVALUATION=false) and with the default rules
 * ACTIVE, alternating servers BENCH_FRAUD_ROUNDS (1) times, each round on listings no buyer bought
 * yet. The evaluation's time per purchase batch is read from the server's `fraud_evaluation_seconds`
 * histogram. Each buyer sends from an address of its own (X-Forwarded-For, the server trusting the
 * loopback proxy), as real clients do; BENCH_ONE_IP=1 sends everything from one address instead (the
 * velocity features' worst case: every purchase scans that address's most recent decisions).
 *
 * Each scenario and pgbench's TPC-B (run right after the purchases, on the same server) report their
 * cost per request or transaction: CPU of the server process and of PostgreSQL's processes (/proc), WAL
 * records, rows written and commits (pg_stat_wal, pg_stat_database). The purchases ÷ TPC-B ratio is
 * taken per round, against a TPC-B run of BENCH_PGBENCH_ROUND_SECONDS (8) right after each uniform
 * scenario with the rules ACTIVE: the machine's speed drifts over the minutes a run takes.
 * BENCH_SKIP=transfers,settlement leaves those scenarios out.
 */
import 'reflect-metadata';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createApp } from '../src/app';
import { priceOf } from '../src/catalog/pricing';
import { Clock } from '../src/common/clock.service';
import { AppConfig, loadConfig } from '../src/config/app-config';
import { freePort } from '../src/database/embedded-postgres';
import { queryRows } from '../src/database/sql';
import { SessionsService } from '../src/identity/sessions.service';
import { loadavg } from 'node:os';
import { analyzeSeeded, benchDatabase, benchServerEnv, fmt, median, percentile } from './bench-db';
import { seedHistory } from './scale-seed';
import { fundWallets, publishListings } from './bench-seed';
import { printSettlement, settlementScenario } from './http-settlement';
import { creditTransfers, TRANSFER_FUNDING } from './http-transfers';
import { CpuSnapshot, cpuNow, cpuSince, postmasterOf } from './process-cpu';

const BUYERS = Number(process.env.BENCH_BUYERS ?? 10_000);
const LISTINGS = Number(process.env.BENCH_LISTINGS ?? 1_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const POOL = Number(process.env.BENCH_POOL ?? 20);
const PGBENCH_SECONDS = Number(process.env.BENCH_PGBENCH_SECONDS ?? 20);
/** TPC-B's run right after each uniform purchase scenario with the rules ACTIVE (the per-round reference). */
const PGBENCH_ROUND_SECONDS = Number(process.env.BENCH_PGBENCH_ROUND_SECONDS ?? 8);
const FRAUD_ROUNDS = Number(process.env.BENCH_FRAUD_ROUNDS ?? 1);
const ONE_IP = process.env.BENCH_ONE_IP === '1';
/** BENCH_SCALE=1: the scale scenario instead (uniform purchases on a fresh database, then again after seeding history). */
const SCALE = process.env.BENCH_SCALE === '1';
const SCALE_USERS = Number(process.env.BENCH_SCALE_USERS ?? 1_000_000);
const SCALE_ENTRIES = Number(process.env.BENCH_SCALE_ENTRIES ?? 5_000_000);
const CREATORS = 100;
/**
 * BENCH_STATEMENTS=N: after each scenario, its N costliest statements per request (pg_stat_statements,
 * loaded into the embedded server; with BENCH_DATABASE_URL the server must preload it).
 */
const STATEMENTS = Number(process.env.BENCH_STATEMENTS ?? 0);
/** BENCH_NODE_ARGS: options for the server's node (e.g. `--max-semi-space-size=32`), space-separated. */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** BENCH_SKIP: comma-separated parts to leave out of the run (`transfers`, `settlement`). */
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').map((k) => k.trim()));

const RESULT_HEADER = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'seconds', 'statuses'];
const resultCells = (r: Result): string[] => [r.name, fmt(r.rps, 0), fmt(r.p50), fmt(r.p99), fmt(r.seconds, 1), JSON.stringify(r.statuses)];

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join(' | ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  rows.forEach((r) => console.log(line(r)));
}

const COST_HEADER = ['server ms', 'db ms', 'WAL rec', 'rows', 'commits'];
const costCells = (c?: Cost): string[] =>
  c ? [fmt(c.serverMs, 2), fmt(c.dbMs, 2), fmt(c.wal, 1), fmt(c.rows, 1), fmt(c.commits, 2)] : COST_HEADER.map(() => '');

const env = (url: string, port: number): Record<string, string> => ({
  ...benchServerEnv(url, port),
  DATABASE_POOL_SIZE: String(POOL),
  TRUST_PROXY: 'loopback',
  // the tokens are minted once, at seeding: a run on a busy machine must not outlive them
  ACCESS_TOKEN_TTL_SECONDS: String(24 * 3600),
});

/** The client address of buyer i (X-Forwarded-For). */
const ipOf = (i: number): string => (ONE_IP ? '10.0.0.1' : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);

interface Seeded {
  tokens: string[];
  listings: string[];
  /** One hot listing per scenario run (a buyer owns an item once). */
  hots: string[];
  /** Listings the warm-up buys (warmUp). */
  warm: string[];
}

const RUNS = 2 * FRAUD_ROUNDS;
const WARM_LISTINGS = 50;
const WARM_PURCHASES = Math.min(2000, BUYERS);

/** Buyers with sessions and tokens from SessionsService, published listings, credits for everyone. */
async function seed(app: INestApplication, config: AppConfig): Promise<Seeded> {
  const db = app.get(DataSource);
  const now = app.get(Clock).now();
  const hash = '$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hiZW5jaA$bench'; // never used to log in
  const users = async (prefix: string, n: number, roles: string) =>
    (
      await queryRows<{ id: string }>(
        db,
        `INSERT INTO users (email, display_name, password_hash, roles, created_at, password_changed_at, updated_at)
         SELECT $1 || i || '@bench.local', 'Bench ' || i, $2, $3::text[], $4, $4, $4 FROM generate_series(1, $5) i RETURNING id`,
        [`${prefix}-${randomBytes(3).toString('hex')}-`, hash, roles, now, n],
      )
    ).map((r) => r.id);
  const buyers = await users('buyer', BUYERS, '{buyer}');
  const creators = await users('creator', CREATORS, '{buyer,creator}');
  await queryRows(db, `INSERT INTO creators (user_id, created_at) SELECT unnest($1::uuid[]), $2`, [creators, now]);

  // Listings go through the same states as through the API (the guard trigger checks every step).
  const count = LISTINGS + RUNS + WARM_LISTINGS;
  const profits = Array.from({ length: count }, (_, i) => BigInt(100 + (i % 10) * 100));
  const prices = profits.map((p) => priceOf(p, [], config.economy.platformMarkupPercent));
  const ids: string[] = (
    await queryRows<{ id: string }>(
      db,
      `INSERT INTO listings (creator_id, title, description, category, profit, derivation_cost, platform_fee, price, created_at, updated_at)
       SELECT ($1::uuid[])[1 + (i - 1) % cardinality($1::uuid[])], 'Bench item ' || i, 'A benchmark item', 'bench',
              ($2::bigint[])[i], 0, ($3::bigint[])[i], ($4::bigint[])[i], $5, $5
       FROM generate_series(1, $6) i RETURNING id`,
      [creators, profits.map(String), prices.map((p) => String(p.platformFee)), prices.map((p) => String(p.price)), now, count],
    )
  ).map((r) => r.id);
  await publishListings(db, ids, now);
  // every run buys at most three items (the warm-up's, the uniform one, the hot one) of at most 1,100
  await fundWallets(app, buyers, 3_300n * BigInt(RUNS) + TRANSFER_FUNDING);
  const sessions = app.get(SessionsService);
  const tokens: string[] = [];
  for (let i = 0; i < buyers.length; i += 500) {
    await db.transaction(async (em) => {
      for (const id of buyers.slice(i, i + 500)) tokens.push((await sessions.start(em, id, { ip: '127.0.0.1' }, now)).accessToken);
    });
  }
  return { tokens, hots: ids.slice(0, RUNS), warm: ids.slice(RUNS, RUNS + WARM_LISTINGS), listings: ids.slice(RUNS + WARM_LISTINGS) };
}

interface Result {
  name: string;
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<number, number>;
  cost?: Cost;
}

/** Per request (or TPC-B transaction): CPU ms of the server process and of PostgreSQL, WAL records, rows written, commits. */
interface Cost {
  serverMs: number;
  dbMs: number;
  wal: number;
  rows: number;
  commits: number;
}

/** Where the costs are read: a connection to the benchmark database and its postmaster (set by main). */
let meter: { db: DataSource; postmaster: number } | undefined;

interface Counters {
  cpu: CpuSnapshot;
  wal: number;
  rows: number;
  commits: number;
}

async function counters(): Promise<Counters | undefined> {
  if (!meter) return undefined;
  if (STATEMENTS) await queryRows(meter.db, 'SELECT pg_stat_statements_reset()');
  const [c] = await queryRows<{ wal: string; rows: string; commits: string }>(
    meter.db,
    `SELECT (SELECT wal_records FROM pg_stat_wal)::text AS wal,
            (tup_inserted + tup_updated + tup_deleted)::text AS rows, xact_commit::text AS commits
       FROM pg_stat_database WHERE datname = current_database()`,
  );
  return { cpu: cpuNow(meter.postmaster), wal: Number(c.wal), rows: Number(c.rows), commits: Number(c.commits) };
}

/** The cost per unit of `n` units between two counter readings (the statistics are flushed first: they lag up to a second). */
async function costSince(before: Counters | undefined, n: number, name: string): Promise<Cost | undefined> {
  if (!before || !meter) return undefined;
  await queryRows(meter.db, 'SELECT pg_stat_force_next_flush()');
  await new Promise((r) => setTimeout(r, 1100));
  if (STATEMENTS) await printStatements(n, name);
  const after = (await counters())!;
  return {
    serverMs: cpuSince(before.cpu.server, after.cpu.server) / n,
    dbMs: cpuSince(before.cpu.db, after.cpu.db) / n,
    wal: (after.wal - before.wal) / n,
    rows: (after.rows - before.rows) / n,
    commits: (after.commits - before.commits) / n,
  };
}

/** The costliest statements since the last reset, per request of the `n` sent (BENCH_STATEMENTS). */
async function printStatements(n: number, name: string): Promise<void> {
  console.log(`\n${name}: statements per request`);
  const rows = await queryRows<Record<string, string>>(
    meter!.db,
    `SELECT to_char(calls / $1::float, 'FM990.00') AS calls, to_char(total_exec_time / $1, 'FM990.000') AS ms,
            to_char(wal_records / $1::float, 'FM990.0') AS wal, to_char(shared_blks_hit / $1::float, 'FM99990.0') AS blocks,
            left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      ORDER BY total_exec_time DESC LIMIT $2`,
    [n, STATEMENTS],
  );
  printTable(
    ['calls', 'exec ms', 'WAL rec', 'blocks', 'statement (per request)'],
    rows.map((r) => [r.calls, r.ms, r.wal, r.blocks, r.query]),
  );
}

/** Sends `n` requests with `concurrency` in flight; `make(i)` describes request i. */
async function load(
  name: string,
  port: number,
  n: number,
  make: (i: number) => { method: string; path: string; token: string; body?: object; ip?: string },
): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const r = make(i);
      const payload = r.body ? JSON.stringify(r.body) : undefined;
      const started = performance.now();
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: r.method,
          path: r.path,
          agent,
          headers: {
            authorization: `Bearer ${r.token}`,
            ...(r.ip ? { 'x-forwarded-for': r.ip } : {}),
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'idempotency-key': randomUUID() }
              : {}),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - started);
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const worker = async () => {
    while (next < n) await one(next++);
  };
  const c0 = await counters();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  const cost = await costSince(c0, n, name);
  latencies.sort((a, b) => a - b);
  return { name, requests: n, seconds, rps: n / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), statuses, cost };
}

/** pgbench's connection environment for the benchmark database. */
function pgbenchEnv(url: string): NodeJS.ProcessEnv {
  const u = new URL(url);
  return {
    ...process.env,
    PGHOST: decodeURIComponent(u.hostname), // a Unix socket directory arrives %-encoded
    PGPORT: u.port,
    PGUSER: decodeURIComponent(u.username),
    PGPASSWORD: decodeURIComponent(u.password),
    PGDATABASE: u.pathname.slice(1),
  };
}

/** Creates pgbench's tables (scale ≥ the pool size) in the benchmark database, beside Bazaar's. */
function pgbenchInit(url: string): void {
  const init = spawnSync('/usr/bin/pgbench', ['-i', '-q', '-s', String(Math.max(POOL, 10))], { env: pgbenchEnv(url), encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);
}

/** Drops pgbench's tables again. */
function pgbenchDrop(url: string): void {
  spawnSync('/usr/bin/pgbench', ['-i', '-I', 'd'], { env: pgbenchEnv(url), encoding: 'utf8' });
}

/** TPC-B for `seconds` with as many clients as the server's pool, and its cost per transaction. */
async function pgbench(url: string, seconds: number): Promise<{ tps: number; output: string; cost?: Cost }> {
  const c0 = await counters();
  const run = spawnSync('/usr/bin/pgbench', ['-c', String(POOL), '-j', '2', '-T', String(seconds)], {
    env: pgbenchEnv(url),
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`pgbench failed: ${run.stderr}`);
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(run.stdout);
  const txns = Number(/number of transactions actually processed: (\d+)/.exec(run.stdout)?.[1]);
  await new Promise((r) => setTimeout(r, 300)); // its backends exit and are reaped: their CPU counts in the postmaster's
  const cost = await costSince(c0, txns, 'pgbench TPC-B');
  return { tps: m ? Number(m[1]) : NaN, output: run.stdout.trim(), cost };
}

async function startServer(url: string, port: number, extra: Record<string, string> = {}): Promise<() => Promise<void>> {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...NODE_ARGS, ...profile, join(__dirname, 'http-server.js')], {
    env: { ...process.env, ...env(url, port), ...extra },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('READY') && resolve());
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
}

/** The cumulative buckets of `fraud_evaluation_seconds{event="item_purchase"}` (upper bound → count), from GET /metrics. */
async function evaluationBuckets(port: number): Promise<Map<number, number>> {
  const text = await new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
  const buckets = new Map<number, number>();
  for (const m of text.matchAll(/^fraud_evaluation_seconds_bucket\{le="([^"]+)",event="item_purchase"\} (\d+)$/gm)) {
    buckets.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  }
  return buckets;
}

/**
 * A fresh server's warm-up on the routes it is measured on: GET /me, then WARM_PURCHASES purchases of
 * listings kept for it (run `run`'s: none of its buyers has bought them). Without the purchases, the
 * first scenario measured on a server paid for its JIT warming (~0.3 ms more server CPU a purchase).
 */
async function warmUp(port: number, s: Seeded, run: number): Promise<void> {
  await load('warm-up', port, 2000, (i) => ({ method: 'GET', path: '/me', token: s.tokens[i % s.tokens.length] }));
  await load('warm-up purchases', port, WARM_PURCHASES, (i) => ({
    method: 'POST',
    path: '/orders',
    token: s.tokens[i],
    ip: ipOf(i),
    body: { listingId: s.warm[(i + run) % s.warm.length] },
  }));
}

/** Evaluations between two snapshots: how many, and the p50 / p99 interpolated within their buckets (ms). */
function evaluationStats(before: Map<number, number>, after: Map<number, number>): { count: number; p50: number; p99: number } {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const count = counts[counts.length - 1] ?? 0;
  const quantile = (q: number) => {
    if (!count) return NaN;
    const rank = q * count;
    const i = counts.findIndex((c) => c >= rank);
    const lower = i > 0 ? bounds[i - 1] : 0;
    const below = i > 0 ? counts[i - 1] : 0;
    if (!Number.isFinite(bounds[i])) return lower * 1000;
    return (lower + ((bounds[i] - lower) * (rank - below)) / Math.max(1, counts[i] - below)) * 1000;
  };
  return { count, p50: quantile(0.5), p99: quantile(0.99) };
}

interface FraudRun {
  evaluation: boolean;
  uniform: Result;
  /** With the rules ACTIVE: TPC-B's rate right after the uniform scenario. */
  tpcb?: number;
  hot: Result;
  batches?: { count: number; p50: number; p99: number };
}

/**
 * Purchases/s (uniform, default rules ACTIVE) on the fresh database, then after SCALE_USERS users and
 * SCALE_ENTRIES ledger entries have been added (scale-seed.ts), each on a fresh server, same buyers and
 * listings (a listing none of them bought yet).
 */
async function scaleScenario(config: AppConfig, url: string, port: number, s: Seeded): Promise<void> {
  const purchases = async (run: number, label: string) => {
    const stop = await startServer(url, port, { FRAUD_EVALUATION: 'true' });
    try {
      await warmUp(port, s, run);
      const before = loadavg()[0];
      const r = await load(`POST /orders uniform, ${label}`, port, BUYERS, (i) => ({
        method: 'POST',
        path: '/orders',
        token: s.tokens[i],
        ip: ipOf(i),
        body: { listingId: s.listings[(i * 7919 + run) % s.listings.length] },
      }));
      return { ...r, load: `${fmt(before)} → ${fmt(loadavg()[0])}` };
    } finally {
      await stop();
    }
  };
  const fresh = await purchases(0, 'fresh database');
  console.log(`seeding ${SCALE_USERS} users and ${SCALE_ENTRIES} ledger entries ...`);
  const t0 = performance.now();
  const seeder = await createApp(config, url);
  await seeder.init();
  try {
    await seedHistory(seeder, url, SCALE_USERS, SCALE_ENTRIES);
    const [sizes] = await queryRows<Record<string, string>>(
      seeder.get(DataSource),
      `SELECT (SELECT count(*) FROM users)::text AS users, (SELECT count(*) FROM ledger_entries)::text AS entries,
              (SELECT count(*) FROM ledger_postings)::text AS postings, (SELECT count(*) FROM ledger_accounts)::text AS accounts`,
    );
    console.log(`seeded in ${fmt((performance.now() - t0) / 1000, 1)} s: ${JSON.stringify(sizes)}`);
  } finally {
    await seeder.close();
  }
  const seeded = await purchases(1, `${SCALE_USERS} users, ${SCALE_ENTRIES} entries`);

  console.log(`\nconcurrency ${CONCURRENCY}, server pool ${POOL}, ${BUYERS} requests per scenario, default fraud rules ACTIVE\n`);
  printTable(
    [...RESULT_HEADER, 'load average (1 min)'],
    [fresh, seeded].map((r) => [...resultCells(r), r.load]),
  );
  console.log(`\nseeded / fresh purchases/s : ${fmt(seeded.rps / fresh.rps)}  (target >= 0.9)`);
}

async function main(): Promise<void> {
  console.log(
    `load average before the run: ${loadavg()
      .map((x) => fmt(x))
      .join(', ')}`,
  );
  const db = await benchDatabase({ statements: STATEMENTS > 0 });
  const port = await freePort();
  try {
    const config = loadConfig(env(db.url, port));
    console.log(`seeding ${BUYERS} buyers, ${LISTINGS} listings + ${RUNS} hot listings ...`);
    const seeder = await createApp(config, db.url);
    await seeder.init();
    const t0 = performance.now();
    const s = await seed(seeder, config);
    await analyzeSeeded(seeder.get(DataSource));
    await seeder.close();
    console.log(`seeded in ${fmt((performance.now() - t0) / 1000, 1)} s`);

    if (SCALE) return await scaleScenario(config, db.url, port, s);
    pgbenchInit(db.url);
    const statsDb = await new DataSource({ type: 'postgres', url: db.url, extra: { max: 1 } }).initialize();
    meter = { db: statsDb, postmaster: await postmasterOf(statsDb) };
    if (STATEMENTS) await queryRows(statsDb, 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements');

    let get: Result | undefined;
    const runs: FraudRun[] = [];
    const scenarios: Result[] = [];
    for (let run = 0; run < RUNS; run++) {
      // off, on, off, on, ...: each mode on a fresh server, on listings no buyer has bought
      const evaluation = run % 2 === 1;
      const stop = await startServer(db.url, port, { FRAUD_EVALUATION: String(evaluation) });
      try {
        await warmUp(port, s, run);
        get ??= await load('GET /me (authenticated, framework ceiling)', port, BUYERS, (i) => ({
          method: 'GET',
          path: '/me',
          token: s.tokens[i],
        }));
        const mode = evaluation ? 'default rules ACTIVE' : 'fraud evaluation off';
        const before = await evaluationBuckets(port);
        const uniform = await load(`POST /orders uniform, ${mode}`, port, BUYERS, (i) => ({
          method: 'POST',
          path: '/orders',
          token: s.tokens[i],
          ip: ipOf(i),
          body: { listingId: s.listings[(i * 7919 + run) % s.listings.length] },
        }));
        const after = await evaluationBuckets(port);
        // The machine's speed drifts over minutes: each round's reference is taken right after it.
        const tpcb = evaluation ? (await pgbench(db.url, PGBENCH_ROUND_SECONDS)).tps : undefined;
        const hot = await load(`POST /orders hot listing, ${mode}`, port, BUYERS, (i) => ({
          method: 'POST',
          path: '/orders',
          token: s.tokens[i],
          ip: ipOf(i),
          body: { listingId: s.hots[run] },
        }));
        runs.push({ evaluation, uniform, tpcb, hot, batches: evaluation ? evaluationStats(before, after) : undefined });
        if (run === RUNS - 1 && !SKIP.has('transfers')) scenarios.push(...(await creditTransfers(load, db.url, port, s.tokens, ipOf)));
      } finally {
        await stop();
      }
    }
    // Right after the purchases, on the same server: the reference their costs are compared with.
    const pg = await pgbench(db.url, PGBENCH_SECONDS);
    pgbenchDrop(db.url);
    const settlement = SKIP.has('settlement') ? undefined : await settlementScenario({ url: db.url, port, config, startServer });
    await statsDb.destroy();

    console.log(
      `\nconcurrency ${CONCURRENCY}, server pool ${POOL}, ${BUYERS} requests per scenario, ${ONE_IP ? 'one client address' : 'an address per buyer'}\n`,
    );
    const results = [get!, ...runs.flatMap((r) => [r.uniform, r.hot]), ...scenarios];
    printTable(
      [...RESULT_HEADER, ...COST_HEADER],
      [
        ...results.map((r) => [...resultCells(r), ...costCells(r.cost)]),
        [`pgbench TPC-B (-c ${POOL} -j 2 -T ${PGBENCH_SECONDS})`, fmt(pg.tps, 0), '', '', '', '', ...costCells(pg.cost)],
      ],
    );

    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const rps = (evaluation: boolean, scenario: 'uniform' | 'hot') =>
      mean(runs.filter((r) => r.evaluation === evaluation).map((r) => r[scenario].rps));
    const [uniformOff, uniformOn, hotOff, hotOn] = [rps(false, 'uniform'), rps(true, 'uniform'), rps(false, 'hot'), rps(true, 'hot')];
    const evaluated = runs.flatMap((r) => (r.batches ? [r.batches] : []));
    const rounds = runs.filter((r) => r.tpcb).map((r) => r.uniform.rps / r.tpcb!);
    console.log(
      `\nuniform purchases / pgbench TPC-B tps : ${fmt(median(rounds))}  (target >= 0.4, rules ACTIVE; median of the rounds ` +
        `${rounds.map((r) => fmt(r)).join(', ')}, each against TPC-B right after it; against the last TPC-B run ${fmt(uniformOn / pg.tps)})`,
    );
    const on = runs.find((r) => r.evaluation)?.uniform.cost;
    if (on && pg.cost) {
      const total = (c: Cost) => c.serverMs + c.dbMs;
      console.log(
        `CPU per purchase / per TPC-B txn      : ${fmt(total(on) / total(pg.cost))} (server ${fmt(on.serverMs)} + db ${fmt(on.dbMs)} ms ` +
          `against db ${fmt(pg.cost.dbMs)} ms; pgbench's client and this load generator not counted)`,
      );
    }
    console.log(`hot / uniform purchases               : ${fmt(hotOn / uniformOn)}  (target >= 0.8, rules ACTIVE)`);
    console.log(`uniform purchases / GET ceiling       : ${fmt(uniformOn / get!.rps)}`);
    console.log(
      `p99 uniform / hot                     : ${fmt(runs[1].uniform.p99)} / ${fmt(runs[1].hot.p99)} ms  (target < 100, rules ACTIVE)`,
    );
    console.log(
      `\nfraud rules, purchases/s off → ACTIVE : uniform ${fmt(uniformOff, 0)} → ${fmt(uniformOn, 0)}, hot ${fmt(hotOff, 0)} → ${fmt(hotOn, 0)}`,
    );
    console.log(`with rules / without, uniform         : ${fmt(uniformOn / uniformOff)}  (target >= 0.85)`);
    console.log(`with rules / without, hot             : ${fmt(hotOn / hotOff)}`);
    for (const b of evaluated) {
      console.log(
        `evaluation per batch (uniform)        : p50 ${fmt(b.p50)} ms, p99 ${fmt(b.p99)} ms over ${b.count} batches (${fmt(BUYERS / b.count, 1)} purchases each)`,
      );
    }
    if (settlement) printSettlement(settlement, { tps: pg.tps, getRps: get!.rps, purchasesRps: uniformOn });
    console.log(
      `load average after the run: ${loadavg()
        .map((x) => fmt(x))
        .join(', ')}`,
    );
  } finally {
    await db.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
