import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { CommonModule } from '../src/common/common.module';
import { Clock } from '../src/common/clock.service';
import { loadConfig } from '../src/config/app-config';
import { ConfigModule } from '../src/config/config.module';
import { DatabaseModule } from '../src/database/database.module';
import { TransactionRunner } from '../src/database/transaction-runner';
import { JobsModule } from '../src/jobs/jobs.module';
import { LedgerModule } from '../src/ledger/ledger.module';
import { EntryInput, LedgerService, systemAccount, userAccount } from '../src/ledger/ledger.service';
import { benchDatabase, fmt, percentile } from './bench-db';

/**
 * npm run bench:ledger — transfers per second and latency of the ledger against one PostgreSQL with
 * synchronous_commit=on (a fresh embedded server in a temp dir, or BENCH_DATABASE_URL), next to
 * pgbench's built-in TPC-B on the same server with the same number of clients. It measures the path
 * routes take: every operation is a transaction of its own that calls the ledger in it, as
 * POST /credit-transfers does for its ledger part (`tx.run((em) => ledger.post(em, entry))`).
 *
 * BENCH_CLIENTS (default 64) concurrent callers; BENCH_SECONDS (default 10) per scenario after a
 * warm-up of BENCH_WARMUP_SECONDS (default 5: enough to bring back the pages pgbench evicted);
 * BENCH_ACCOUNTS (default 10000) wallets; BENCH_SCENARIOS (comma-separated keys, default all);
 * BENCH_PGBENCH=0 skips pgbench. The uniform scenario, the hot one and pgbench take turns for
 * BENCH_ROUNDS (default 3) rounds, and each ratio (uniform ÷ TPC-B, hot ÷ uniform) is the median of
 * the rounds' ratios: these machines' speed drifts over minutes, so the reference to compare with is
 * the one measured right next to its subject. Besides
 * wall-clock figures it reports CPU time per operation (this process, and every PostgreSQL process,
 * read from /proc), which stays meaningful when other work shares the machine.
 */
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 64);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
const ONLY = process.env.BENCH_SCENARIOS?.split(',').map((k) => k.trim());
const PGBENCH = process.env.BENCH_PGBENCH !== '0';
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const TICK_MS = 1000 / (Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100);

interface Result {
  key: string;
  name: string;
  ops: number;
  perSecond: number;
  p50: number;
  p99: number;
  refused: number;
  commits: number;
  /** CPU per operation (µs): this process (clients + ledger code) and the database server. */
  appCpuUs: number;
  dbCpuUs?: number;
}

interface TpcbResult {
  tps: number;
  latency: number;
  scale: number;
  clientCpuUs?: number;
  dbCpuUs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** /proc/<pid>/stat fields after the command name: [0] state, [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime. */
function procStat(pid: number): number[] {
  return readFileSync(`/proc/${pid}/stat`, 'utf8')
    .split(') ')[1]
    .split(' ')
    .map((f, i) => (i === 0 ? 0 : Number(f)));
}

/**
 * CPU time (ms) of the whole PostgreSQL server so far: the live processes (backends, background
 * workers) plus, through the postmaster's children counters, every process that has exited (such as
 * pgbench's backends). Linux only; undefined elsewhere.
 */
async function serverCpuMs(db: Client): Promise<number | undefined> {
  try {
    const { rows } = await db.query('SELECT pid FROM pg_stat_activity');
    const pids = rows.map((r: { pid: number }) => Number(r.pid));
    const postmaster = procStat(pids[0])[1];
    const own = (s: number[]) => s[11] + s[12];
    const pm = procStat(postmaster);
    return (pids.reduce((sum, pid) => sum + own(procStat(pid)), 0) + own(pm) + pm[13] + pm[14]) * TICK_MS;
  } catch {
    return undefined;
  }
}

function appCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function commits(db: Client): Promise<number> {
  const { rows } = await db.query('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()');
  return Number(rows[0].n);
}

/** Runs `op` from CLIENTS concurrent callers for SECONDS (after a warm-up) and measures it. */
async function scenario(key: string, name: string, stats: Client, op: () => Promise<void>): Promise<Result> {
  const drive = async (seconds: number, latencies: number[] | undefined) => {
    let refused = 0;
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (performance.now() < end) {
          const t0 = performance.now();
          try {
            await op();
            latencies?.push(performance.now() - t0);
          } catch (err) {
            if (refused++ === 0 && latencies) console.error(`  ${name}: first error: ${(err as Error).message}`);
          }
        }
      }),
    );
    return refused;
  };
  // Each scenario starts from a vacuumed, checkpointed database, as pgbench vacuums before its run:
  // otherwise autovacuum and the checkpoint that the previous scenarios' WAL calls for land in this
  // one's figures (a checkpoint's fsyncs stall every commit for tens of milliseconds).
  await stats.query('VACUUM ANALYZE');
  await stats.query('CHECKPOINT').catch(() => undefined); // needs a superuser (or pg_checkpoint) on BENCH_DATABASE_URL
  await drive(WARMUP_SECONDS, undefined);
  // What autovacuum does on a running system: statistics for tables the warm-up filled (a plan made
  // while a table was nearly empty would otherwise scan it for the whole run).
  await stats.query('ANALYZE');
  const latencies: number[] = [];
  const [c0, db0, app0, t0] = [await commits(stats), await serverCpuMs(stats), appCpuMs(), performance.now()];
  const refused = await drive(SECONDS, latencies);
  const [elapsed, app1, db1, c1] = [(performance.now() - t0) / 1000, appCpuMs(), await serverCpuMs(stats), await commits(stats)];
  latencies.sort((a, b) => a - b);
  const ops = latencies.length;
  return {
    key,
    name,
    ops,
    perSecond: ops / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    refused,
    commits: c1 - c0,
    appCpuUs: ((app1 - app0) * 1000) / Math.max(ops, 1),
    dbCpuUs: db0 === undefined || db1 === undefined ? undefined : ((db1 - db0) * 1000) / Math.max(ops, 1),
  };
}

type Pgbench = { run(): Promise<TpcbResult> } | { missing: string };

/** Creates and fills pgbench's TPC-B tables next to the ledger's, ready for runs of SECONDS each. */
async function pgbench(adminUrl: string, stats: Client): Promise<Pgbench> {
  if (spawnSync('sh', ['-c', 'command -v pgbench']).status !== 0) {
    return {
      missing:
        'pgbench not found, so there is no TPC-B baseline. Install it with `apt-get install postgresql-client` ' +
        '(Debian/Ubuntu), `dnf install postgresql-contrib` (Fedora/RHEL) or `brew install postgresql` (macOS), then run again.',
    };
  }
  const u = new URL(adminUrl);
  const env = {
    ...process.env,
    PGPASSWORD: decodeURIComponent(u.password),
    PGHOST: decodeURIComponent(u.hostname), // a Unix socket directory arrives %-encoded
    PGPORT: u.port,
    PGUSER: decodeURIComponent(u.username),
  };
  // Scale >= clients, so TPC-B's branch rows are not an artificial bottleneck.
  const scale = Math.max(CLIENTS, 1);
  await stats.query('DROP DATABASE IF EXISTS pgbench');
  await stats.query('CREATE DATABASE pgbench');
  execFileSync('pgbench', ['-i', '-q', '-s', String(scale), 'pgbench'], { env, stdio: ['ignore', 'ignore', 'ignore'] });
  const args = ['-c', String(CLIENTS), '-j', String(Math.min(CLIENTS, cpus().length)), '-T', String(SECONDS), 'pgbench'];
  const run = async (): Promise<TpcbResult> => {
    await stats.query('CHECKPOINT').catch(() => undefined); // the same start as the ledger scenarios (pgbench vacuums itself)
    const db0 = await serverCpuMs(stats);
    // The shell reports the CPU of the child it waited for (cutime, cstime) once pgbench has exited.
    const out = execFileSync('sh', ['-c', 'pgbench "$@" && echo "STAT $(cat /proc/$$/stat)"', 'sh', ...args], { env, encoding: 'utf8' });
    // Exited backends count once the postmaster has reaped them.
    while (Number((await stats.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = 'pgbench'`)).rows[0].n) > 0)
      await sleep(20);
    await sleep(100);
    const db1 = await serverCpuMs(stats);
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
    const txns = tps * SECONDS;
    const stat = /STAT .*\) (.*)/.exec(out)?.[1]?.split(' ');
    return {
      tps,
      latency: Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]),
      scale,
      clientCpuUs: stat ? ((Number(stat[13]) + Number(stat[14])) * TICK_MS * 1000) / txns : undefined,
      dbCpuUs: db0 === undefined || db1 === undefined ? undefined : ((db1 - db0) * 1000) / txns,
    };
  };
  return { run };
}

/** The uniform scenario, the hot one and the TPC-B run that followed them. */
interface Round {
  uniform: Result;
  hot?: Result;
  tpcb?: TpcbResult;
}

const ratioOf = (r: Round): number => (r.tpcb ? r.uniform.perSecond / r.tpcb.tps : r.uniform.perSecond);
const hotRatioOf = (r: Round): number => r.hot!.perSecond / r.uniform.perSecond;

/** The round with the median of `ratio` (by default uniform ÷ TPC-B; with no TPC-B, the uniform rate). */
function medianRound(rounds: Round[], ratio: (r: Round) => number = ratioOf): Round {
  return [...rounds].sort((a, b) => ratio(a) - ratio(b))[Math.floor((rounds.length - 1) / 2)];
}

async function main(): Promise<void> {
  const load0 = loadavg()[0];
  const db = await benchDatabase();
  const adminUrl = db.url.replace(/\/[^/]+$/, '/postgres');
  const stats = new Client({ connectionString: db.url });
  await stats.connect();
  const setting = async (name: string) => (await stats.query('SELECT current_setting($1) AS v', [name])).rows[0].v as string;
  const syncCommit = await setting('synchronous_commit');
  if (syncCommit !== 'on') throw new Error(`synchronous_commit is ${syncCommit}; the benchmark needs on`);
  console.log(
    `PostgreSQL ${await setting('server_version')}, synchronous_commit=${syncCommit}, fsync=${await setting('fsync')}; ` +
      `${cpus().length} CPUs, load average ${fmt(load0)} before the run; ${CLIENTS} clients, ${SECONDS} s per scenario (+${WARMUP_SECONDS} s warm-up)`,
  );

  const secret = randomBytes(32).toString('base64');
  const config = loadConfig({
    NODE_ENV: 'development',
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: String(CLIENTS + 16),
    JOBS_ENABLED: 'false',
    DEV_ROUTES: 'false',
    LOG_LEVEL: 'silent',
    JWT_SECRET: `${secret}-bench-only-secret`,
    ENCRYPTION_KEY: secret,
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('LEDGER_'))),
  });
  // Only what the ledger needs, so the benchmark does not depend on the other feature modules.
  @Module({
    imports: [
      ConfigModule.forRoot(config),
      DatabaseModule.forRoot(db.url, config.databasePoolSize),
      CommonModule,
      JobsModule,
      LedgerModule,
    ],
  })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  await app.init();
  const ledger = app.get(LedgerService);
  const tx = app.get(TransactionRunner);
  const clock = app.get(Clock);

  // Before the ledger's setup, so that the writes of pgbench's initialization have settled by the first round.
  const reference = PGBENCH ? await pgbench(adminUrl, stats) : undefined;
  const setupStart = performance.now();
  const users = Array.from({ length: ACCOUNTS }, () => randomUUID());
  for (let i = 0; i < users.length; i += 500) {
    const outcomes = await tx.run((em) =>
      ledger.postMany(
        em,
        users.slice(i, i + 500).map((u) => ({
          kind: 'mint',
          reference: `bench-mint:${u}`,
          postings: [
            { account: systemAccount('issuance', 'CREDIT'), amount: -1_000_000_000n },
            { account: userAccount(u, 'CREDIT', 'wallet'), amount: 1_000_000_000n },
          ],
        })),
      ),
    );
    const refused = outcomes.find((o) => 'error' in o);
    if (refused) throw (refused as { error: Error }).error;
  }
  await ledger.foldPendingCredits(); // what the periodic compactor job does in a running server
  await stats.query('ANALYZE');
  console.log(`setup: ${ACCOUNTS} funded wallets in ${fmt((performance.now() - setupStart) / 1000, 1)} s`);

  const pick = () => users[randomInt(users.length)];
  const pair = () => {
    const from = pick();
    let to = pick();
    while (to === from) to = pick();
    return [from, to];
  };
  const creator = randomUUID();
  const transfer = (from: string, to: string, toName: 'wallet' | 'earnings_pending' = 'wallet'): EntryInput => {
    const amount = BigInt(randomInt(1, 100));
    return {
      kind: 'transfer',
      reference: `bench:${randomUUID()}`,
      postings: [
        { account: userAccount(from, 'CREDIT', 'wallet'), amount: -amount },
        { account: userAccount(to, 'CREDIT', toName), amount },
      ],
    };
  };
  // Each operation in a transaction of its own, as a route's.
  const post = (entry: EntryInput) => tx.run((em) => ledger.post(em, entry));
  const scenarios: [string, string, () => Promise<unknown>][] = [
    ['uniform', `uniform (${ACCOUNTS} accounts)`, () => post(transfer(...(pair() as [string, string])))],
    ['hot', 'hot (every transfer credits one account)', () => post(transfer(pick(), creator, 'earnings_pending'))],
    [
      'holds',
      'holds (hold, then capture, one transaction)',
      () =>
        tx.run(async (em) => {
          const [from, to] = pair();
          const { holdId } = await ledger.hold(em, {
            reference: `bench-hold:${randomUUID()}`,
            kind: 'purchase',
            from: userAccount(from, 'CREDIT', 'wallet'),
            to: userAccount(to, 'CREDIT', 'wallet'),
            amount: 50n,
            expiresAt: clock.in(600),
          });
          await ledger.capture(em, holdId);
        }),
    ],
  ];
  const tpcbRun = reference && 'run' in reference ? reference.run : undefined;
  const results: Result[] = [];
  const rounds: Round[] = [];
  const run = ([key, name, op]: (typeof scenarios)[number]) => scenario(key, name, stats, async () => void (await op()));
  const selected = scenarios.filter(([key]) => !ONLY || ONLY.includes(key));
  const [uniformScenario, hotScenario] = ['uniform', 'hot'].map((k) => selected.find(([key]) => key === k));
  for (const s of selected) {
    if (s === hotScenario && uniformScenario) continue; // measured in the rounds, beside uniform
    if (s !== uniformScenario) {
      results.push(await run(s));
      continue;
    }
    for (let i = 0; i < ROUNDS; i++) {
      rounds.push({
        uniform: await run(s),
        hot: hotScenario ? await run(hotScenario) : undefined,
        tpcb: tpcbRun ? await tpcbRun() : undefined,
      });
    }
    results.push(medianRound(rounds).uniform);
    if (hotScenario) results.push(medianRound(rounds, hotRatioOf).hot!);
  }
  const tpcb = rounds.length ? medianRound(rounds).tpcb : await tpcbRun?.();

  const verifyStart = performance.now();
  const report = await ledger.verify();
  const verifySeconds = (performance.now() - verifyStart) / 1000;
  await app.close();
  await stats.end();
  await db.stop();

  const cpu = (us?: number) => (us === undefined ? '-' : fmt(us, 0));
  console.log('');
  console.log(
    `${'scenario'.padEnd(52)} ${'per s'.padStart(7)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'/commit'.padStart(7)} ` +
      `${'app µs'.padStart(7)} ${'db µs'.padStart(7)}  refused`,
  );
  for (const r of results) {
    console.log(
      `${r.name.padEnd(52)} ${fmt(r.perSecond, 0).padStart(7)} ${fmt(r.p50).padStart(7)} ${fmt(r.p99).padStart(7)} ` +
        `${fmt(r.ops / Math.max(r.commits, 1), 1).padStart(7)} ${cpu(r.appCpuUs).padStart(7)} ${cpu(r.dbCpuUs).padStart(7)}  ${r.refused}`,
    );
  }
  const get = (key: string) => results.find((r) => r.key === key);
  const uniform = get('uniform');
  const hot = get('hot');
  if (reference && 'missing' in reference) console.log(`\n${reference.missing}`);
  else if (tpcb) {
    console.log(
      `${`pgbench TPC-B (scale ${tpcb.scale}, ${CLIENTS} clients)`.padEnd(52)} ${fmt(tpcb.tps, 0).padStart(7)} ${fmt(tpcb.latency).padStart(7)} (avg)` +
        `${''.padStart(16)}${cpu(tpcb.clientCpuUs).padStart(7)} ${cpu(tpcb.dbCpuUs).padStart(7)}`,
    );
  }
  console.log('');
  if (uniform && tpcb) {
    console.log(`uniform${hot ? ', hot' : ''} and pgbench TPC-B taking turns, ${rounds.length} rounds of ${SECONDS} s:`);
    rounds.forEach((r, i) =>
      console.log(
        `  round ${i + 1}: uniform ${fmt(r.uniform.perSecond, 0)}/s, TPC-B ${fmt(r.tpcb!.tps, 0)} tps: ${fmt(ratioOf(r))}x` +
          (r.hot ? `; hot ${fmt(r.hot.perSecond, 0)}/s (${fmt(hotRatioOf(r))} of uniform)` : ''),
      ),
    );
    const ratio = ratioOf(medianRound(rounds));
    const all = rounds.map(ratioOf);
    console.log(`uniform / pgbench TPC-B = ${fmt(ratio)}x, median of the rounds (${fmt(Math.min(...all))}-${fmt(Math.max(...all))}x)`);
    if (uniform.dbCpuUs !== undefined && tpcb.dbCpuUs !== undefined && tpcb.clientCpuUs !== undefined) {
      const perCpu = (tpcb.dbCpuUs + tpcb.clientCpuUs) / (uniform.dbCpuUs + uniform.appCpuUs);
      console.log(`  by CPU per operation (all processes, both sides): ledger transfer vs TPC-B transaction = ${fmt(perCpu)}x cheaper`);
    }
  }
  if (uniform && hot) {
    const all = rounds.map(hotRatioOf);
    const ratio = hotRatioOf(medianRound(rounds, hotRatioOf));
    console.log(
      `hot / uniform = ${fmt(ratio)}, median of the rounds (${fmt(Math.min(...all))}-${fmt(Math.max(...all))}) ` +
        `(target >= 0.8: ${ratio >= 0.8 ? 'met' : 'NOT met'})`,
    );
  }
  for (const r of results.filter((x) => ['uniform', 'hot', 'holds'].includes(x.key))) {
    console.log(`p99 ${r.name}: ${fmt(r.p99)} ms`);
  }
  console.log(
    `verify after the run: ${report.ok ? 'ok' : 'FAILED'} (${report.entries} entries, chain ${report.chainOk ? 'intact' : 'broken'}, ` +
      `CREDIT sum ${report.assets.CREDIT.sum}) in ${fmt(verifySeconds, 1)} s; load average ${fmt(loadavg()[0])} after the run`,
  );
  if (!report.ok) console.log(report.problems);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
