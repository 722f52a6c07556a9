import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { loadConfig } from '../../src/config/app-config';
import { startFakeStripe } from '../support/fake-stripe';
import { nodeEnv } from './bank';
import { sleep } from './client';
import { Nodes } from './nodes';
import { PostgresServer, startPostgresServer } from './postgres-server';
import { PROFILES } from './profiles';
import { StripeSide } from './stripe';
import { buildWorld, World } from './world';

/**
 * PostgreSQL stopped and started under a running server process (issue 17): requests held inside the
 * server at the shutdown, and those sent while it is down, are answered 503 SERVICE_UNAVAILABLE with
 * Retry-After; the process survives (every pg client it made listens for its connection's errors),
 * serves again once PostgreSQL is back, and a refused request retried with its key is applied once.
 */
describe('PostgreSQL restarting under a running server', () => {
  const profile = { ...PROFILES.short, name: 'restart', nodes: 1, clients: 2, buyers: 2, creators: 1, listingsPerCreator: 1 };
  let pg: PostgresServer;
  let stopStripe: () => Promise<void>;
  let nodes: Nodes;
  let db: Pool;
  let world: World;

  beforeAll(async () => {
    pg = await startPostgresServer();
    const { fake, env: stripeEnv } = await startFakeStripe();
    stopStripe = () => fake.stop();
    const env = nodeEnv(pg.url, stripeEnv);
    db = new Pool({ connectionString: pg.url, max: 2 });
    db.on('error', () => undefined); // idle connections cut by the restarts
    nodes = await Nodes.start(1, env);
    world = await buildWorld(nodes, new StripeSide(fake, nodes), loadConfig({ ...env, NODE_ENV: 'development' }), db, profile);
  }, 300_000);
  afterAll(async () => {
    await nodes?.stop();
    await db?.end();
    await stopStripe?.();
    await pg?.stop();
  });

  const gift = async (key: string) => {
    const [from, to] = world.buyers;
    const res = await fetch(`${nodes.url(0)}/credit-transfers`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${from.token}`, 'Idempotency-Key': key },
      body: JSON.stringify({ toUserId: to.id, amount: 1 }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json().catch(() => undefined)) as { code?: string } | undefined };
  };
  const expectUnavailable = (res: Awaited<ReturnType<typeof gift>>) => {
    expect({ status: res.status, code: res.body?.code }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  };

  /** Gifts held inside the server by table locks: each waits in a query (its session's lookup, or its transaction). */
  async function heldGifts(n: number): Promise<{ keys: string[]; answers: Promise<Awaited<ReturnType<typeof gift>>[]> }> {
    const locker = new Client({ connectionString: pg.url });
    locker.on('error', () => undefined); // its connection goes with the shutdown
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE sessions, credit_transfers IN ACCESS EXCLUSIVE MODE');
    const keys = Array.from({ length: n }, () => randomUUID());
    const answers = Promise.all(keys.map(gift));
    for (let waited = 0; ; waited += 100) {
      const [row] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`)).rows;
      if (row.n >= 1) break;
      if (waited > 30_000) throw new Error(`no gift reached the lock: ${JSON.stringify(await answers)}`);
      await sleep(100);
    }
    await sleep(300);
    return { keys, answers };
  }

  for (const mode of ['fast', 'immediate'] as const) {
    it(`survives a ${mode} shutdown with requests in flight, answers 503 meanwhile, and applies each retried request once`, async () => {
      const held = await heldGifts(6);
      let whileDown!: Awaited<ReturnType<typeof gift>>;
      let publicWhileDown!: Response;
      const downKey = randomUUID();
      await pg.restart(mode, async () => {
        whileDown = await gift(downKey);
        publicWhileDown = await fetch(`${nodes.url(0)}/token-packages`);
      });
      expectUnavailable(whileDown);
      expect(publicWhileDown.status).toBe(503);
      for (const answer of await held.answers) expectUnavailable(answer);

      // The same keys again, until PostgreSQL accepts connections: each applied now, exactly once.
      const keys = [...held.keys, downKey];
      for (const key of keys) {
        let res = await gift(key);
        for (let n = 0; res.status === 503 && n < 150; n++) {
          await sleep(200);
          res = await gift(key);
        }
        expect({ key, status: res.status, code: res.body?.code }).toEqual({ key, status: 201, code: undefined });
        const again = await gift(key);
        expect(again.status).toBe(201);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
      }
      const refs = keys.map((k) => `credit_transfer:${world.buyers[0].id}:${k}`);
      const counts = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ledger_entries WHERE reference = ANY($1) GROUP BY reference`,
        [refs],
      );
      expect(counts.rows.map((r) => r.n)).toEqual(keys.map(() => 1));
      await sleep(500); // an exit on a connection's error event comes right after the shutdown
      expect(nodes.crashes()).toEqual([]);
    }, 240_000);
  }
});
