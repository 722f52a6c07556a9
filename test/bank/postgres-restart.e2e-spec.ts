import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { loadConfig } from '../../src/config/app-config';
import { startFakeStripe } from '../support/fake-stripe';
import type { Actor } from '../support/market-fixtures';
import { nodeEnv } from './bank';
import { sleep } from './client';
import { Nodes } from './nodes';
import { PostgresServer, startPostgresServer } from './postgres-server';
import { StripeSide } from './stripe';
import { Market, openMarket, settled } from './world';

interface Answer {
  what: string;
  status: number;
  code?: string;
  type: string | null;
  retryAfter: string | null;
  error?: string;
  body?: { code?: string; ok?: boolean };
}

/**
 * PostgreSQL stopped (pg_ctl -m fast, then -m immediate) and started again under a running server
 * process (issue 17), with requests in flight: gifts inside their transaction (waiting on a table
 * lock after BEGIN, so their pooled client is checked out mid-transaction), requests waiting at their
 * session check, and a stream of gifts and GET /me through the restart, and more while PostgreSQL is
 * down. Every answer is 2xx, or 503 problem+json with Retry-After (never a 500, never a 401 for a
 * valid token); the process does not exit and serves again; every gift retried with its key is
 * applied exactly once, and the ledger verifies.
 */
describe('PostgreSQL restarting under a running server', () => {
  let pg: PostgresServer;
  let stopStripe: () => Promise<void>;
  let nodes: Nodes;
  let db: Pool;
  let market: Market;

  beforeAll(async () => {
    pg = await startPostgresServer();
    const { fake, env: stripeEnv } = await startFakeStripe();
    stopStripe = () => fake.stop();
    const env = nodeEnv(pg.url, stripeEnv);
    db = new Pool({ connectionString: pg.url, max: 2 });
    db.on('error', () => undefined); // idle connections cut by the restarts
    nodes = await Nodes.start(1, env);
    market = await openMarket(nodes, new StripeSide(fake, nodes), loadConfig({ ...env, NODE_ENV: 'development' }), db, 3);
    await settled(db);
  }, 120_000);
  afterAll(async () => {
    await nodes?.stop();
    await db?.end();
    await stopStripe?.();
    await pg?.stop();
  });

  const call = async (what: string, path: string, actor?: Actor, body?: object, key?: string): Promise<Answer> => {
    const headers: Record<string, string> = {};
    if (actor) headers.Authorization = `Bearer ${actor.token}`;
    if (body) headers['Content-Type'] = 'application/json';
    if (key) headers['Idempotency-Key'] = key;
    try {
      const res = await fetch(`${nodes.url(0)}${path}`, {
        method: body ? 'POST' : 'GET',
        headers,
        body: body && JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const json = (await res.json().catch(() => undefined)) as Answer['body'];
      return {
        what,
        status: res.status,
        code: json?.code,
        type: res.headers.get('content-type'),
        retryAfter: res.headers.get('retry-after'),
        body: json,
      };
    } catch (err) {
      return { what, status: 0, type: null, retryAfter: null, error: String((err as Error).cause ?? err) };
    }
  };

  /** 2xx, or 503 SERVICE_UNAVAILABLE as problem+json with a Retry-After of at least a second. */
  const acceptable = (a: Answer) =>
    (a.status >= 200 && a.status < 300) ||
    (a.status === 503 && a.code === 'SERVICE_UNAVAILABLE' && /^application\/problem\+json/.test(a.type ?? '') && Number(a.retryAfter) >= 1);

  /** Holds `table` in ACCESS EXCLUSIVE mode on a connection of its own, until the shutdown ends it. */
  async function lock(table: string): Promise<void> {
    const locker = new Client({ connectionString: pg.url });
    locker.on('error', () => undefined); // its connection goes with the shutdown
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  }

  /** Waits until `n` statements wait for a lock, `midTransaction` of them in a transaction begun before the statement. */
  async function waiting(n: number, midTransaction = 0): Promise<void> {
    for (let waited = 0; ; waited += 50) {
      const [row] = (
        await db.query<{ n: number; mid: number }>(
          `SELECT count(*)::int AS n, count(*) FILTER (WHERE xact_start < query_start)::int AS mid
             FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND backend_type = 'client backend'`,
        )
      ).rows;
      if (row.n >= n && row.mid >= midTransaction) return;
      if (waited > 20_000)
        throw new Error(`${row.n} statements wait for a lock (${row.mid} mid-transaction), not ${n} (${midTransaction})`);
      await sleep(50);
    }
  }

  for (const mode of ['fast', 'immediate'] as const) {
    it(`survives a ${mode} shutdown with requests in flight: 2xx or 503 + Retry-After, serving again, each gift applied once`, async () => {
      const { buyers } = market;
      const answers: Answer[] = [];
      const gifts: { from: Actor; to: Actor; key: string }[] = [];
      const gift = async (i: number) => {
        const g = { from: buyers[i % buyers.length], to: buyers[(i + 1) % buyers.length], key: randomUUID() };
        gifts.push(g);
        const a = await call('POST /credit-transfers', '/credit-transfers', g.from, { toUserId: g.to.id, amount: 100 }, g.key);
        answers.push(a);
        return a;
      };
      const me = async (i: number) => {
        const a = await call('GET /me', '/me', buyers[i % buyers.length]);
        answers.push(a);
        return a;
      };

      // Gifts held inside their transaction (the 30-day sum reads credit_transfers after BEGIN), then
      // GET /me held at the session check (checks arriving together share one statement).
      await lock('credit_transfers');
      const held = buyers.map((_, i) => gift(i));
      await waiting(1, 1);
      await lock('sessions');
      held.push(...buyers.map((_, i) => me(i)));
      await waiting(2, 1);

      let restarting = true;
      const stream = (async () => {
        for (let i = 0; restarting; i++) await Promise.all([gift(i), me(i)]);
      })();
      const down: Answer[] = [];
      await pg.restart(mode, async () => {
        down.push(await gift(0), await me(1), await call('GET /token-packages', '/token-packages'));
      });
      restarting = false;
      await Promise.all([stream, ...held]);

      expect(answers.filter((a) => !acceptable(a)).map(({ body: _, ...a }) => a)).toEqual([]);
      expect(down.map((a) => a.status)).toEqual([503, 503, 503]);
      expect(answers.filter((a) => a.status === 503).length).toBeGreaterThanOrEqual(down.length + held.length);

      // The same process serves again: every gift, sent again with its key, is applied now or replayed.
      for (const g of gifts) {
        let a = await call('POST /credit-transfers', '/credit-transfers', g.from, { toUserId: g.to.id, amount: 100 }, g.key);
        for (let n = 0; a.status === 503 && n < 100; n++) {
          await sleep(100);
          a = await call('POST /credit-transfers', '/credit-transfers', g.from, { toUserId: g.to.id, amount: 100 }, g.key);
        }
        expect({ key: g.key, status: a.status, code: a.code }).toEqual({ key: g.key, status: 201, code: undefined });
      }
      const counts = await db.query<{ n: number }>(
        `SELECT count(e.id)::int AS n FROM unnest($1::text[]) AS r(reference) LEFT JOIN ledger_entries e ON e.reference = r.reference GROUP BY r.reference`,
        [gifts.map((g) => `credit_transfer:${g.from.id}:${g.key}`)],
      );
      expect(counts.rows.map((r) => r.n)).toEqual(gifts.map(() => 1));
      const verify = await call('GET /admin/ledger/verify', '/admin/ledger/verify', market.admin);
      expect({ status: verify.status, ok: verify.body?.ok }).toEqual({ status: 200, ok: true });
      await sleep(200); // an exit on a connection's error event would come right after the shutdown
      expect(nodes.crashes()).toEqual([]);
    }, 60_000);
  }
});
