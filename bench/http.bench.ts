/**
 * Item purchases over HTTP with real JWTs, against the framework's ceiling (an authenticated GET) and
 * the database's (pgbench TPC-B on the same PostgreSQL).   npm run bench:http
 *
 * (a) uniform: BENCH_BUYERS (10,000) buyers over BENCH_LISTINGS (1,000) listings; (b) hot: every buyer
 * buys the same listing. The server runs in its own process; the load generator keeps BENCH_CONCURRENCY
 * requests in flight over keep-alive connections.
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
import { LedgerService, systemAccount, userAccount } from '../src/ledger/ledger.service';
import { benchDatabase, fmt, percentile } from './bench-db';

const BUYERS = Number(process.env.BENCH_BUYERS ?? 10_000);
const LISTINGS = Number(process.env.BENCH_LISTINGS ?? 1_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const POOL = Number(process.env.BENCH_POOL ?? 20);
const PGBENCH_SECONDS = Number(process.env.BENCH_PGBENCH_SECONDS ?? 20);
const CREATORS = 100;

const env = (url: string, port: number): Record<string, string> => ({
  NODE_ENV: 'development',
  DATABASE_URL: url,
  PORT: String(port),
  DEV_ROUTES: 'false',
  JOBS_ENABLED: 'false',
  LOG_LEVEL: 'silent',
  DATABASE_POOL_SIZE: String(POOL),
  JWT_SECRET: 'bench-jwt-secret-bench-jwt-secret-0123456789',
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  DATA_DIR: '/tmp/bazaar-bench-data',
});

interface Seeded {
  tokens: string[];
  listings: string[];
  hot: string;
}

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
  const profits = Array.from({ length: LISTINGS + 1 }, (_, i) => BigInt(100 + (i % 10) * 100));
  const prices = profits.map((p) => priceOf(p, [], config.economy.platformMarkupPercent));
  const ids: string[] = (
    await queryRows<{ id: string }>(
      db,
      `INSERT INTO listings (creator_id, title, description, category, profit, derivation_cost, platform_fee, price, created_at, updated_at)
       SELECT ($1::uuid[])[1 + (i - 1) % cardinality($1::uuid[])], 'Bench item ' || i, 'A benchmark item', 'bench',
              ($2::bigint[])[i], 0, ($3::bigint[])[i], ($4::bigint[])[i], $5, $5
       FROM generate_series(1, $6) i RETURNING id`,
      [creators, profits.map(String), prices.map((p) => String(p.platformFee)), prices.map((p) => String(p.price)), now, LISTINGS + 1],
    )
  ).map((r) => r.id);
  await queryRows(
    db,
    `UPDATE listings SET status = 'pending_review', submitted_at = $2, submission_fee_asset = 'CREDIT', submission_fee = 0 WHERE id = ANY ($1::uuid[])`,
    [ids, now],
  );
  await queryRows(db, `UPDATE listings SET status = 'published', published_at = $2 WHERE id = ANY ($1::uuid[])`, [ids, now]);

  const ledger = app.get(LedgerService);
  const credit = 10_000n;
  for (let i = 0; i < buyers.length; i += 60) {
    const group = buyers.slice(i, i + 60);
    await db.transaction((em) =>
      ledger.post(em, {
        kind: 'bench_funding',
        reference: `bench_funding:${randomUUID()}`,
        postings: [
          { account: systemAccount('issuance', 'CREDIT'), amount: -credit * BigInt(group.length) },
          ...group.map((id) => ({ account: userAccount(id, 'CREDIT', 'wallet'), amount: credit })),
        ],
      }),
    );
  }
  await ledger.foldPendingCredits(); // what the periodic compactor job does in a running server
  const sessions = app.get(SessionsService);
  const tokens: string[] = [];
  for (let i = 0; i < buyers.length; i += 500) {
    await db.transaction(async (em) => {
      for (const id of buyers.slice(i, i + 500)) tokens.push((await sessions.start(em, id, { ip: '127.0.0.1' }, now)).accessToken);
    });
  }
  return { tokens, listings: ids.slice(1), hot: ids[0] };
}

interface Result {
  name: string;
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<number, number>;
}

/** Sends `n` requests with `concurrency` in flight; `make(i)` describes request i. */
async function load(
  name: string,
  port: number,
  n: number,
  make: (i: number) => { method: string; path: string; token: string; body?: object },
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
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { name, requests: n, seconds, rps: n / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), statuses };
}

function pgbench(url: string): { tps: number; output: string } {
  const u = new URL(url);
  const pgEnv = {
    ...process.env,
    PGHOST: decodeURIComponent(u.hostname), // a Unix socket directory arrives %-encoded
    PGPORT: u.port,
    PGUSER: decodeURIComponent(u.username),
    PGPASSWORD: decodeURIComponent(u.password),
    PGDATABASE: u.pathname.slice(1),
  };
  const scale = String(Math.max(POOL, 10));
  const init = spawnSync('/usr/bin/pgbench', ['-i', '-q', '-s', scale], { env: pgEnv, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);
  const run = spawnSync('/usr/bin/pgbench', ['-c', String(POOL), '-j', '2', '-T', String(PGBENCH_SECONDS)], {
    env: pgEnv,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`pgbench failed: ${run.stderr}`);
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(run.stdout);
  spawnSync('/usr/bin/pgbench', ['-i', '-I', 'd'], { env: pgEnv, encoding: 'utf8' }); // drop its tables again
  return { tps: m ? Number(m[1]) : NaN, output: run.stdout.trim() };
}

async function startServer(url: string, port: number): Promise<() => Promise<void>> {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, join(__dirname, 'http-server.js')], {
    env: { ...process.env, ...env(url, port) },
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

async function main(): Promise<void> {
  const db = await benchDatabase();
  const port = await freePort();
  try {
    const config = loadConfig(env(db.url, port));
    console.log(`seeding ${BUYERS} buyers, ${LISTINGS} listings + 1 hot listing ...`);
    const seeder = await createApp(config, db.url);
    await seeder.init();
    const t0 = performance.now();
    const s = await seed(seeder, config);
    await seeder.close();
    console.log(`seeded in ${fmt((performance.now() - t0) / 1000, 1)} s`);

    const stop = await startServer(db.url, port);
    const results: Result[] = [];
    try {
      await load('warm-up', port, 2000, (i) => ({ method: 'GET', path: '/me', token: s.tokens[i % s.tokens.length] }));
      results.push(
        await load('GET /me (authenticated, framework ceiling)', port, BUYERS, (i) => ({ method: 'GET', path: '/me', token: s.tokens[i] })),
      );
      results.push(
        await load('POST /orders uniform', port, BUYERS, (i) => ({
          method: 'POST',
          path: '/orders',
          token: s.tokens[i],
          body: { listingId: s.listings[(i * 7919) % s.listings.length] },
        })),
      );
      results.push(
        await load('POST /orders hot listing', port, BUYERS, (i) => ({
          method: 'POST',
          path: '/orders',
          token: s.tokens[i],
          body: { listingId: s.hot },
        })),
      );
    } finally {
      await stop();
    }
    const pg = pgbench(db.url);

    console.log(`\nconcurrency ${CONCURRENCY}, server pool ${POOL}, ${BUYERS} requests per scenario\n`);
    const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'seconds', 'statuses'];
    const rows = results.map((r) => [r.name, fmt(r.rps, 0), fmt(r.p50), fmt(r.p99), fmt(r.seconds, 1), JSON.stringify(r.statuses)]);
    rows.push([`pgbench TPC-B (-c ${POOL} -j 2 -T ${PGBENCH_SECONDS})`, fmt(pg.tps, 0), '', '', '', '']);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join(' | ');
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
    rows.forEach((r) => console.log(line(r)));
    const [get, uniform, hot] = results;
    console.log(`\nuniform purchases / pgbench TPC-B tps : ${fmt(uniform.rps / pg.tps)}  (target >= 1)`);
    console.log(`hot / uniform purchases               : ${fmt(hot.rps / uniform.rps)}  (target >= 0.8)`);
    console.log(`uniform purchases / GET ceiling       : ${fmt(uniform.rps / get.rps)}`);
    console.log(`p99 uniform / hot                     : ${fmt(uniform.p99)} / ${fmt(hot.p99)} ms  (target < 100)`);
  } finally {
    await db.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
