/**
 * Settlement over HTTP (part of `npm run bench:http`): token purchases whose payments succeed, from
 * the Stripe event's receipt to the credits minted. Stripe is the sandbox's Stripe-compatible server
 * (src/payments/sandbox/fake-stripe.ts) run in this process, as the tests run it: the server creates
 * its PaymentIntents there and fetches the charges' card details from it, and this process plays
 * Stripe's side, POSTing each signed `payment_intent.succeeded` to the server's webhook route. The
 * server runs its workers (JOBS_ENABLED) and the default fraud rules ACTIVE.
 *
 * (a) burst: BENCH_SETTLE_BURST (1,000) payments succeed at once (BENCH_SETTLE_IN_FLIGHT, 200,
 * requests in flight); (b) steady: BENCH_SETTLE_RATE (100) payments a second for
 * BENCH_SETTLE_SECONDS (10), sent on schedule whatever the answers. Receipt-to-mint is
 * `processed_at - received_at` of the payment_intent.succeeded events (both read from the server's
 * clock; processed_at is taken in the transaction that mints); events/s is payments minted per
 * second from the first request to the last mint.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { createApp } from '../src/app';
import { Clock } from '../src/common/clock.service';
import { AppConfig } from '../src/config/app-config';
import { queryRows } from '../src/database/sql';
import { SessionsService } from '../src/identity/sessions.service';
import { FakeStripe, randomWebhookSecret } from '../src/payments/sandbox/fake-stripe';
import { fmt } from './bench-db';
import { call } from './http-call';
import { CpuSnapshot, cpuNow, cpuSince, postmasterOf } from './process-cpu';

const BURST = Number(process.env.BENCH_SETTLE_BURST ?? 1_000);
const IN_FLIGHT = Number(process.env.BENCH_SETTLE_IN_FLIGHT ?? 200);
const RATE = Number(process.env.BENCH_SETTLE_RATE ?? 100);
const SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 10);

export interface SettlementContext {
  url: string;
  port: number;
  config: AppConfig;
  startServer: (url: string, port: number, extra?: Record<string, string>) => Promise<() => Promise<void>>;
}

export interface SettlementResult {
  name: string;
  payments: number;
  /** From the first request to the last payment minted. */
  seconds: number;
  eventsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  minted: number;
  failedRequests: number;
  /** CPU time per payment, ms: the server process and the database's processes (load-independent, unlike the rates). */
  cpu: { server: number; db: number };
}

/** Buyers (one purchase each: the velocity rule blocks a 6th within an hour) with access tokens. */
async function seedBuyers(config: AppConfig, url: string, n: number): Promise<string[]> {
  const app = await createApp(config, url);
  await app.init();
  try {
    const db = app.get(DataSource);
    const now = app.get(Clock).now();
    const ids = (
      await queryRows<{ id: string }>(
        db,
        `INSERT INTO users (email, display_name, password_hash, roles, created_at, password_changed_at, updated_at)
         SELECT $1 || i || '@bench.local', 'Payer ' || i, '$argon2id$v=19$m=19456,t=2,p=1$YmVuY2g$never', '{buyer}', $2, $2, $2
         FROM generate_series(1, $3) i RETURNING id`,
        [`payer-${randomBytes(3).toString('hex')}-`, now, n],
      )
    ).map((r) => r.id);
    const sessions = app.get(SessionsService);
    const tokens: string[] = [];
    await db.transaction(async (em) => {
      for (const id of ids) tokens.push((await sessions.start(em, id, { ip: '127.0.0.1' }, now)).accessToken);
    });
    return tokens;
  } finally {
    await app.close();
  }
}

type Answer = Awaited<ReturnType<typeof call>>;

/** Runs `n` tasks with at most `width` at once. */
async function inFlight<T>(n: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, n) }, lane));
  return out;
}

/** Pending purchases of the package, one per buyer. */
async function createPurchases(agent: Agent, port: number, tokens: string[]): Promise<{ id: string; paymentIntentId: string }[]> {
  const packages = JSON.parse((await call(port, agent, 'GET', '/token-packages', {})).body) as { items: { id: string; name: string }[] };
  const packageId = packages.items.find((p) => p.name === 'Popular')!.id;
  return inFlight(tokens.length, 32, async (i) => {
    const headers = { authorization: `Bearer ${tokens[i]}`, 'idempotency-key': randomUUID() };
    const res = await call(port, agent, 'POST', '/token-purchases', headers, { packageId });
    if (res.status !== 201) throw new Error(`POST /token-purchases answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as { id: string; paymentIntentId: string };
  });
}

/** Waits until every purchase is minted (or `timeoutMs` passes); the time of the last mint, ms since `t0`. */
async function mintedBy(db: DataSource, ids: string[], t0: number, timeoutMs = 120_000): Promise<{ at: number; minted: number }> {
  for (;;) {
    const [{ n }] = await queryRows<{ n: number }>(
      db,
      `SELECT count(*)::int AS n FROM token_purchases WHERE id = ANY ($1::uuid[]) AND granted_credits > 0`,
      [ids],
    );
    const at = performance.now() - t0;
    if (n === ids.length || at > timeoutMs) return { at, minted: n };
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function measure(
  name: string,
  db: DataSource,
  ids: string[],
  t0: number,
  failedRequests: number,
  cpu0: CpuSnapshot,
): Promise<SettlementResult> {
  const done = await mintedBy(db, ids, t0);
  const cpu = cpuNow(cpu0.postmaster);
  const [lat] = await queryRows<{ p50: number; p99: number; max: number }>(
    db,
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max
     FROM (SELECT EXTRACT(EPOCH FROM processed_at - received_at) * 1000 AS ms FROM stripe_events
           WHERE type = 'payment_intent.succeeded' AND purchase_id = ANY ($1::uuid[]) AND status = 'processed') x`,
    [ids],
  );
  const seconds = done.at / 1000;
  return {
    name,
    payments: ids.length,
    seconds,
    eventsPerSecond: done.minted / seconds,
    p50: Number(lat.p50),
    p99: Number(lat.p99),
    max: Number(lat.max),
    minted: done.minted,
    failedRequests,
    cpu: { server: cpuSince(cpu0.server, cpu.server) / ids.length, db: cpuSince(cpu0.db, cpu.db) / ids.length },
  };
}

/** The bank approves the payment; Stripe sends the signed event (only the types the endpoint subscribes to). */
function succeed(fake: FakeStripe, agent: Agent, port: number, pi: string): Promise<Answer> {
  const event = fake.succeed(pi).find((e) => e.type === 'payment_intent.succeeded')!;
  const { payload, header } = fake.sign(event);
  return call(port, agent, 'POST', '/webhooks/stripe', { 'stripe-signature': header }, payload);
}

export async function settlementScenario(ctx: SettlementContext): Promise<SettlementResult[]> {
  const steady = RATE * SECONDS;
  console.log(`settlement: seeding ${BURST + steady} payers ...`);
  const tokens = await seedBuyers(ctx.config, ctx.url, BURST + steady);
  const fake = await new FakeStripe({ webhookSecret: randomWebhookSecret() }).start();
  const stop = await ctx.startServer(ctx.url, ctx.port, {
    JOBS_ENABLED: 'true',
    STRIPE_SECRET_KEY: 'sk_test_bench',
    STRIPE_WEBHOOK_SECRET: fake.webhookSecret,
    STRIPE_API_BASE: fake.url,
  });
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const db = await new DataSource({ type: 'postgres', url: ctx.url, extra: { max: 2 } }).initialize();
  try {
    const purchases = await createPurchases(agent, ctx.port, tokens);
    const burst = purchases.slice(0, BURST);
    const rated = purchases.slice(BURST);

    const postmaster = await postmasterOf(db);
    console.log(`settlement: ${BURST} payments succeeding at once ...`);
    let cpu0 = cpuNow(postmaster);
    let t0 = performance.now();
    const answers = await Promise.all(burst.map((p) => succeed(fake, agent, ctx.port, p.paymentIntentId)));
    const burstResult = await measure(
      `burst: ${BURST} at once`,
      db,
      burst.map((p) => p.id),
      t0,
      answers.filter((a) => a.status !== 200).length,
      cpu0,
    );

    console.log(`settlement: ${RATE} payments a second for ${SECONDS} s ...`);
    cpu0 = cpuNow(postmaster);
    t0 = performance.now();
    const sent: Promise<Answer>[] = [];
    for (let i = 0; i < rated.length; i++) {
      const due = (i * 1000) / RATE - (performance.now() - t0);
      if (due > 0) await new Promise((r) => setTimeout(r, due));
      sent.push(succeed(fake, agent, ctx.port, rated[i].paymentIntentId));
    }
    const steadyAnswers = await Promise.all(sent);
    const steadyResult = await measure(
      `steady: ${RATE}/s for ${SECONDS} s`,
      db,
      rated.map((p) => p.id),
      t0,
      steadyAnswers.filter((a) => a.status !== 200).length,
      cpu0,
    );
    return [burstResult, steadyResult];
  } finally {
    agent.destroy();
    await db.destroy();
    await stop();
    await fake.stop();
  }
}

/** `reference`: what the same run measured beside it (pgbench TPC-B tps, the authenticated GET's req/s, uniform purchases/s with the rules ACTIVE). */
export function printSettlement(results: SettlementResult[], reference: { tps: number; getRps: number; purchasesRps: number }): void {
  console.log(`\nsettlement (webhook receipt → credits minted; default fraud rules ACTIVE, up to ${IN_FLIGHT} webhooks in flight)\n`);
  const header = [
    'scenario',
    'payments',
    'minted',
    'seconds',
    'events/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'failed requests',
    'CPU ms/payment server + db',
  ];
  const rows = results.map((r) => [
    r.name,
    String(r.payments),
    String(r.minted),
    fmt(r.seconds, 2),
    fmt(r.eventsPerSecond, 0),
    fmt(r.p50, 1),
    fmt(r.p99, 1),
    fmt(r.max, 1),
    String(r.failedRequests),
    `${fmt(r.cpu.server)} + ${fmt(r.cpu.db)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join(' | ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  rows.forEach((r) => console.log(line(r)));
  const [burst, steady] = results;
  console.log(`\nburst all minted in            : ${fmt(burst.seconds, 2)} s  (target <= 10)`);
  console.log(`steady receipt-to-mint p99     : ${fmt(steady.p99, 1)} ms  (target < 1000)`);
  console.log(`burst events/s / TPC-B tps      : ${fmt(burst.eventsPerSecond / reference.tps)}`);
  console.log(`burst events/s / GET ceiling    : ${fmt(burst.eventsPerSecond / reference.getRps)}`);
  console.log(`burst events/s / POST /orders/s : ${fmt(burst.eventsPerSecond / reference.purchasesRps)}`);
}
