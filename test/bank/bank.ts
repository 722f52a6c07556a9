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
  const env = nodeEnv(pg.url, stripeEnv);
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
    const quiet = await quiesce(db, traffic);
    const problems = await checkBank({ db, databaseUrl: pg.url, world, journal, traffic, baseline });
    if (quiet.left.length)
      problems.push(
        `${quiet.left.length} Stripe events still queued ${SETTLE_MS / 1000} s after the workload:\n    ${quiet.left.join('\n    ')}`,
      );
    if (traffic.internalErrors.length)
      problems.push(`${traffic.internalErrors.length} answers were 500 (listed above; BANK_LOGS keeps the nodes' logs)`);
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
    log(`every Stripe event applied ${(quiet.ms / 1000).toFixed(1)} s after the workload ended`);
    return result;
  } finally {
    await nodes?.stop();
    await db.end();
    await fake.stop();
    await pg.stop();
  }
}

/**
 * The quiet period: the due jobs run, then every stored Stripe event must be applied by the nodes'
 * workers within `SETTLE_MS` (an event whose job a killed node had claimed comes back when the claim
 * expires: WEBHOOK_CLAIM_EXPIRY_SECONDS). Answers how long that took and what is still queued, with
 * each event's last error.
 */
async function quiesce(db: Pool, traffic: Traffic): Promise<{ ms: number; left: string[] }> {
  const t = Date.now();
  await traffic.send({ method: 'POST', path: '/dev/jobs/run' });
  const left = await settle(db, SETTLE_MS);
  if (left === 0) return { ms: Date.now() - t, left: [] };
  const rows = await db.query<{ id: string; type: string; attempts: number; last_error: string | null }>(
    `SELECT id, type, attempts, last_error FROM stripe_events WHERE status = 'queued' ORDER BY received_at`,
  );
  return {
    ms: Date.now() - t,
    left: rows.rows.map((r) => `${r.id} ${r.type}: ${r.attempts} attempts, last error ${r.last_error ?? 'none'}`),
  };
}

const SETTLE_MS = 60_000;

/** The environment of every node of a bank run (the same secrets for all: several nodes need them). */
export function nodeEnv(databaseUrl: string, stripeEnv: Record<string, string>): Record<string, string> {
  const secret = randomBytes(32).toString('base64');
  return {
    ...stripeEnv,
    DATABASE_URL: databaseUrl,
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
    // An event whose job a killed node had claimed goes to another node's worker within seconds.
    WEBHOOK_CLAIM_EXPIRY_SECONDS: '4',
  };
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
  log(`500 answers: ${traffic.internalErrors.length}${traffic.internalErrors.map((e) => `\n  ${e}`).join('')}`);
  log(`webhook deliveries ${stripe.deliveries} (${stripe.redeliveries} again)`);
  log(
    `kills ${r.kills}, PostgreSQL restarts ${r.pgRestarts.length} (${r.pgRestarts.join(', ')}), elapsed ${(r.elapsedMs / 1000).toFixed(1)} s`,
  );
  log(r.problems.length ? `result: FAILED\n  ${r.problems.join('\n  ')}` : 'result: OK');
}
