import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { loadConfig } from '../../src/config/app-config';
import { startFakeStripe } from '../support/fake-stripe';
import { checkBank } from './checks';
import { Traffic } from './client';
import { postedBalances } from './ledger-state';
import { runNemesis } from './nemesis';
import { Nodes } from './nodes';
import { startPostgresServer } from './postgres-server';
import type { Profile } from './profiles';
import { StripeSide } from './stripe';
import { Journal, runClients } from './workload';
import { buildWorld, settle, settled } from './world';

/**
 * The bank test (docs/testing.md): one PostgreSQL server, `profile.nodes` Bazaar processes against
 * it, one fake Stripe for all of them; clients move money through every node while nodes are killed
 * and PostgreSQL is restarted; then, once quiet, the checks. Answers the counts and the problems found.
 */
export interface BankResult {
  profile: string;
  operations: number;
  requests: number;
  acknowledged: number;
  retried: number;
  unknown: number;
  kills: number;
  pgRestarts: string[];
  elapsedMs: number;
  problems: string[];
}

export async function runBank(profile: Profile, log: (line: string) => void = console.log): Promise<BankResult> {
  const started = Date.now();
  const pg = await startPostgresServer();
  const { fake, env: stripeEnv } = await startFakeStripe();
  const secret = randomBytes(32).toString('base64');
  const env: Record<string, string> = {
    ...stripeEnv,
    DATABASE_URL: pg.url,
    JOBS_ENABLED: 'true',
    DEV_ROUTES: 'true',
    JWT_SECRET: `${secret}-bank-jwt`,
    ENCRYPTION_KEY: secret,
    DATABASE_POOL_SIZE: '10',
    // Setup without moving the business clock: no account age, 2FA age or probation for the reseller.
    RESELLER_MIN_ACCOUNT_AGE_DAYS: '0',
    RESELLER_MIN_2FA_DAYS: '0',
    RESELLER_PROBATION_DAYS: '0',
    RESELLER_DAILY_MAX_CREDITS: '1000000000',
    GIFT_PURCHASED_CREDITS_DELAY_HOURS: '0',
    ACCESS_TOKEN_TTL_SECONDS: '86400',
    REAUTH_WINDOW_SECONDS: '3600',
    // A stored event whose receiving node was killed is taken by another node's worker soon.
    WEBHOOK_FALLBACK_SECONDS: '1',
  };
  const db = new Pool({ connectionString: pg.url, max: 4 });
  db.on('error', () => undefined); // idle connections cut by a PostgreSQL restart
  let nodes: Nodes | undefined;
  try {
    nodes = await Nodes.start(profile.nodes, env);
    const stripe = new StripeSide(fake, nodes);
    const world = await buildWorld(nodes, stripe, loadConfig({ ...env, NODE_ENV: 'development' }), db, profile);
    await settled(db);
    const baseline = {
      balances: await postedBalances(db),
      purchaseIds: (await db.query<{ id: string }>(`SELECT id FROM token_purchases`)).rows.map((r) => r.id),
    };
    log(
      `bank test (${profile.name}): ${profile.nodes} nodes, ${profile.clients} clients, ${profile.workloadMs / 1000} s of workload; set up in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    const traffic = new Traffic(nodes, profile);
    const journal = new Journal();
    const t0 = Date.now();
    const [, faults] = await Promise.all([
      runClients(world, traffic, stripe, journal, t0 + profile.workloadMs, profile.clients),
      runNemesis(nodes, pg, profile, t0, log),
    ]);
    const stuck = await quiesce(db, traffic);
    const problems = await checkBank({ db, databaseUrl: pg.url, world, journal, traffic, baseline });
    if (stuck.left > 0) problems.push(`${stuck.left} Stripe events still queued after the hourly requeue`);
    problems.push(...nodes.crashes());
    const result: BankResult = {
      profile: profile.name,
      operations: traffic.operations,
      requests: traffic.requests,
      acknowledged: traffic.acknowledged,
      retried: traffic.retried,
      unknown: traffic.unknown,
      kills: faults.kills,
      pgRestarts: faults.pgRestarts,
      elapsedMs: Date.now() - started,
      problems,
    };
    report(result, traffic, journal, stripe, log);
    if (stuck.requeued > 0)
      log(
        `Stripe events the killed nodes left queued, applied only after the hourly requeue (business clock moved 2 h): ${stuck.requeued}`,
      );
    return result;
  } finally {
    await nodes?.stop();
    await db.end();
    await fake.stop();
    await pg.stop();
  }
}

/**
 * The quiet period: every stored Stripe event applied by the nodes' workers, then the due jobs run. An
 * event whose fallback job a killed node had claimed waits for pg-boss to expire that job (15 minutes)
 * or for the hourly requeue of stale events: the business clock is moved past that hour for it.
 */
async function quiesce(db: Pool, traffic: Traffic): Promise<{ requeued: number; left: number }> {
  const requeued = await settle(db, 30_000);
  if (requeued > 0) await traffic.send({ method: 'POST', path: '/dev/clock', body: { advanceSeconds: 2 * 3600 } });
  await traffic.send({ method: 'POST', path: '/dev/jobs/run' });
  return { requeued, left: await settle(db, 60_000) };
}

function report(r: BankResult, traffic: Traffic, journal: Journal, stripe: StripeSide, log: (line: string) => void) {
  const byKind = new Map<string, [number, number]>();
  for (const op of journal.operations) {
    const [n, ok] = byKind.get(op.kind) ?? [0, 0];
    byKind.set(op.kind, [n + 1, ok + (op.answer.status >= 200 && op.answer.status < 300 ? 1 : 0)]);
  }
  const list = (m: Map<string, number>) => [...m].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  log(`operations: ${[...byKind].map(([k, [n, ok]]) => `${k} ${n} (${ok} acknowledged)`).join(', ')}`);
  log(`requests ${r.requests}, acknowledged ${r.acknowledged}, retried ${r.retried}, unknown ${r.unknown}`);
  log(`refused (definite 4xx): ${list(traffic.rejections)}`);
  log(`failed attempts (retried): ${list(traffic.failures)}`);
  log(`webhook deliveries ${stripe.deliveries} (${stripe.redeliveries} again)`);
  log(
    `kills ${r.kills}, PostgreSQL restarts ${r.pgRestarts.length} (${r.pgRestarts.join(', ')}), elapsed ${(r.elapsedMs / 1000).toFixed(1)} s`,
  );
  log(r.problems.length ? `result: FAILED\n  ${r.problems.join('\n  ')}` : 'result: OK');
}
