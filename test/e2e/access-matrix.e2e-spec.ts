import { randomUUID } from 'node:crypto';
import { accessMatrix, Cast, defaultPath, makeCast, MatrixRequest, RouteAccess, ROLES, tokenOf, Who } from '../support/access-matrix';
import { verifyLedger } from '../support/market-fixtures';
import { inBatches } from '../support/reseller-fixtures';
import { enumerateRoutes, Route } from '../support/routes';
import { startTestApp, TestApp } from '../support/test-app';

interface Check {
  route: string;
  who: Who;
  /** 'allow': anything but 401/403; 200: the resource itself; otherwise the status (and its code) of the refusal. */
  expect: 'allow' | 200 | 401 | 403 | 404;
  build: (c: Cast, who: Who) => MatrixRequest | Promise<MatrixRequest>;
  phase: 0 | 1 | 2;
}

const DENY_CODE = { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' } as const;

describe('access matrix: every route for every role, as declared in test/support/access-matrix.ts', () => {
  let t: TestApp;
  let cast: Cast;
  let matrix: Record<string, RouteAccess>;
  let routes: Route[];

  beforeAll(async () => {
    t = await startTestApp();
    cast = await makeCast(t);
    matrix = accessMatrix(t);
    routes = enumerateRoutes(t);
  }, 180_000);
  afterAll(() => t?.close());

  it('has one entry for every route of the booted app, dev routes included, and none for a route that does not exist', () => {
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    expect(keys).toEqual(expect.arrayContaining(['GET /dev/clock', 'POST /dev/payments/:paymentIntentId/succeed']));
    expect(keys.filter((k) => !(k in matrix))).toEqual([]);
    expect(Object.keys(matrix).filter((k) => !keys.includes(k))).toEqual([]);
  });

  it('answers every role as the table says: 401 anonymous, 403 without the role, 404/403 for another user’s resource', async () => {
    const checks: Check[] = [];
    for (const r of routes) {
      const key = `${r.method} ${r.path}`;
      const entry = matrix[key];
      if (!entry) continue; // the test above names it
      const build = entry.request ?? (() => ({}));
      for (const who of ROLES) {
        const allowed = entry.allow === 'public' || (who !== 'anonymous' && entry.allow.includes(who));
        const expected = allowed ? 'allow' : who === 'anonymous' ? 401 : 403;
        // Refusals first (nothing they ask for may happen), then what is allowed, then what changes roles.
        checks.push({ route: key, who, expect: expected, build, phase: !allowed ? 0 : entry.last ? 2 : 1 });
      }
      for (const f of entry.foreign ?? [])
        checks.push({ route: key, who: f.who, expect: f.expect, build: f.request ?? build, phase: f.expect === 200 ? 1 : 0 });
    }
    const failures: unknown[] = [];
    for (const phase of [0, 1, 2] as const) {
      await inBatches(
        checks.filter((c) => c.phase === phase),
        8,
        async (c) => {
          const got = await send(c);
          if (!matches(c, got)) failures.push({ route: c.route, who: c.who, expected: c.expect, got });
        },
      );
    }
    process.stdout.write(
      `access matrix: ${routes.length} routes × ${ROLES.length} roles = ${routes.length * ROLES.length} checks ` +
        `and ${checks.length - routes.length * ROLES.length} on one user's resource ` +
        `(${checks.filter((c) => c.expect === 200).length} by its owner or an admin): ${failures.length} failures\n`,
    );
    expect(failures).toEqual([]);

    // The refused session delete left the other buyer signed in; the refused edits changed nothing.
    await t.http().get('/me').set('Authorization', `Bearer ${cast.users.otherBuyer.token}`).expect(200);
    const [draft] = await t.sql<{ profit: string; status: string }>('SELECT profit::text, status FROM listings WHERE id = $1', [
      cast.ids.draft,
    ]);
    expect(draft.profit).not.toBe('12');
    const [order] = await t.sql<{ status: string }>('SELECT status FROM reseller_orders WHERE id = $1', [cast.ids.resellerOrder]);
    expect(order.status).toBe('open');
    expect((await verifyLedger(t)).ok).toBe(true);
  }, 120_000);

  async function send(c: Check): Promise<{ status: number; code?: string; type?: string }> {
    const [method, path] = c.route.split(' ');
    const req = await c.build(cast, c.who);
    const token = req.token ?? tokenOf(cast, c.who);
    const verb = method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete';
    const http = t.http();
    let r = http[verb](req.path ?? defaultPath(path)).set('Idempotency-Key', randomUUID());
    if (token) r = r.set('Authorization', `Bearer ${token}`);
    const res = method === 'GET' || method === 'DELETE' ? await r : await r.send((req.body ?? {}) as object);
    return { status: res.status, code: res.body?.code, type: res.headers['content-type'] };
  }

  function matches(c: Check, got: { status: number; code?: string; type?: string }): boolean {
    if (c.expect === 'allow') return got.status !== 401 && got.status !== 403;
    if (c.expect === 200) return got.status === 200;
    return got.status === c.expect && got.code === DENY_CODE[c.expect] && /application\/problem\+json/.test(got.type ?? '');
  }
});
