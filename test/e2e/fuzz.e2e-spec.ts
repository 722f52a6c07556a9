import fc from 'fast-check';
import { ERROR_STATUS } from '../../src/common/errors';
import { Cast, makeCast, tokenOf, Who } from '../support/access-matrix';
import { strongPassword, uniqueEmail } from '../support/auth';
import { verifyLedger } from '../support/market-fixtures';
import { inBatches } from '../support/reseller-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/** Requests per operation: FUZZ_RUNS (npm test: 10; npm run test:fuzz: 200). FUZZ_SEED replays a run. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10);
const SEED = Number(process.env.FUZZ_SEED ?? 17_2026);
const IN_FLIGHT = 8;
/** What ends the cast's sessions, changes its roles or moves the clock: fuzzed last, each after signing the cast in again. */
const LAST =
  /^(POST \/auth\/(logout|password\/change|2fa)|DELETE \/auth\/sessions|POST \/admin\/users\/\{id\}\/(roles|hold)|POST \/me\/freeze|POST \/dev\/clock|POST \/creators\/me)/;

/** encodeURIComponent, except that a lone surrogate becomes its (invalid) UTF-8 bytes instead of a throw. */
const enc = (v: string): string => {
  try {
    return encodeURIComponent(v);
  } catch {
    return '%ED%A0%80';
  }
};

/** The contract's codes (API.md); the catalog adds every code the application defines (ERROR_STATUS, src/common/errors.ts). */
const API_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'INVALID_CREDENTIALS',
  'STEP_UP_REQUIRED',
  'REAUTH_REQUIRED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'IDEMPOTENCY_IN_PROGRESS',
  'INSUFFICIENT_FUNDS',
  'ALREADY_OWNED',
  'INVALID_STATE',
  'IDEMPOTENCY_KEY_REUSED',
  'ACCOUNT_LOCKED',
  'ACCOUNT_FROZEN',
  'COOLING_PERIOD_ACTIVE',
  'FRAUD_BLOCKED',
  'LIMIT_EXCEEDED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
];

type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  additionalProperties?: unknown;
};
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  method: string;
  /** OpenAPI style: `/listings/{id}`. */
  path: string;
  parameters: Parameter[];
  body?: Schema;
}

interface FuzzRequest {
  who: Who;
  kind: 'valid' | 'mutated' | 'hostile';
  path: string;
  query: string;
  headers: Record<string, string>;
  /** undefined: no body; a string: sent as it is (raw JSON text, or another media type's). */
  body?: unknown;
  contentType?: string;
  /** An unknown key was added to a JSON object body: the answer must not be a success. */
  extraKey?: string;
}

const WHO: Who[] = ['anonymous', 'buyer', 'creator', 'reseller', 'admin', 'otherBuyer', 'otherCreator', 'otherReseller'];
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'prototype'];
const HOSTILE_VALUES: unknown[] = [
  null,
  '',
  '\u0000',
  'a\u0000b',
  -1,
  0,
  0.5,
  -0.000001,
  1e308,
  -1e308,
  2 ** 53 + 1,
  2 ** 63,
  -(2 ** 63) - 1,
  '9223372036854775808',
  '12',
  true,
  [],
  {},
  [null],
  'x'.repeat(10_001),
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '../../../etc/passwd',
  '\u202e\ud83d\ude00',
  '\ud800',
  '00000000-0000-0000-0000-000000000000',
  'NaN',
  '2026-02-30T25:61:00Z',
];
const HOSTILE_SEGMENTS = [
  'not-a-uuid',
  '0',
  '-1',
  '%00',
  'a%00b',
  '%2e%2e',
  '%E0%A4%A',
  '%ZZ',
  'x'.repeat(300),
  '00000000-0000-0000-0000-000000000000',
  '0199A3C4-5B6E-7F80-9A1B-2C3D4E5F6A7B',
  '0199a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b%20',
  '1e309',
  '__proto__',
  'constructor',
];
/** Raw JSON texts no JS value serializes to; `K` is replaced by a key of the schema. */
const RAW_JSON = [
  '{"K": 1e400}',
  '{"K": -1e400}',
  '{"K": 123456789012345678901234567890}',
  '{"K": 1.0}',
  '{"K": -0}',
  '{"K": "\\u0000"}',
  '{"K": 1, "K": "twice"}',
  '{"K": 1}garbage',
  '{"K": ',
  '[]',
  '"a string"',
  'null',
  '42',
  'true',
  '',
  '\u0000',
];

describe('fuzzer: requests generated from /docs-json, valid and hostile, as every role', () => {
  let t: TestApp;
  let cast: Cast;
  let ops: Operation[];
  let schemas: Record<string, Schema>;
  let catalog: Set<string>;
  let ids: string[];

  beforeAll(async () => {
    t = await startTestApp();
    cast = await makeCast(t);
    const doc = (await t.http().get('/docs-json').expect(200)).body;
    schemas = doc.components.schemas;
    ops = [];
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Record<string, unknown>>>)) {
      for (const [method, op] of Object.entries(methods)) {
        const body = (op.requestBody as { content?: Record<string, { schema: Schema }> } | undefined)?.content?.['application/json']
          ?.schema;
        ops.push({ method: method.toUpperCase(), path, parameters: (op.parameters as Parameter[]) ?? [], body });
      }
    }
    ops.sort((a, b) => Number(LAST.test(`${a.method} ${a.path}`)) - Number(LAST.test(`${b.method} ${b.path}`)));
    catalog = new Set([...API_CODES, ...Object.keys(ERROR_STATUS)]);
    ids = [...Object.values(cast.users).map((u) => u.id), ...Object.values(cast.ids), cast.admin2.id];
  }, 180_000);
  afterAll(() => t?.close());

  it('never answers 500, answers every error as problem+json with a code from the catalog, refuses unknown keys, and the ledger verifies after', async () => {
    const started = Date.now();
    process.stdout.write(`fuzz: seed ${SEED}, ${RUNS} requests per operation (replay: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS})\n`);
    const failures: unknown[] = [];
    const lines: string[] = [];
    let total = 0;
    let refreshedAt = Date.now();
    for (const [i, op] of ops.entries()) {
      // Long runs outlive the 15-minute access tokens and the 5-minute re-authentication window; each of
      // the last operations may have ended some of the cast's sessions.
      if (Date.now() - refreshedAt > 4 * 60_000) {
        await refreshCast(false);
        refreshedAt = Date.now();
      } else if (LAST.test(`${op.method} ${op.path}`)) await refreshCast(true);
      const requests = fc.sample(requestFor(op), { seed: SEED + i, numRuns: RUNS });
      const statuses = new Map<number, number>();
      await inBatches(requests, IN_FLIGHT, async (r, n) => {
        const res = await send(op, r);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const problem = judge(op, r, res);
        if (problem) failures.push({ operation: `${op.method} ${op.path}`, problem, run: n, request: show(r), response: res });
      });
      total += requests.length;
      const histogram = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
      lines.push(`  ${op.method} ${op.path}: ${requests.length} (${histogram.join(' ')})`);
    }
    const ledger = await verifyLedger(t);
    process.stdout.write(
      `fuzz: ${total} requests over ${ops.length} operations in ${((Date.now() - started) / 1000).toFixed(1)} s, ${failures.length} failures, ledger ${ledger.ok ? 'ok' : 'NOT ok'}\n${lines.join('\n')}\n`,
    );
    const byProblem = new Map<string, number>();
    for (const f of failures as { operation: string; problem: string }[]) byProblem.set(f.problem, (byProblem.get(f.problem) ?? 0) + 1);
    if (failures.length) process.stdout.write(`fuzz failures by kind: ${JSON.stringify(Object.fromEntries(byProblem))}\n`);
    expect(failures.slice(0, 20)).toEqual([]);
    expect(ledger).toMatchObject({ ok: true });
  }, 3_600_000);

  /** What is wrong with an answer, or null. */
  function judge(op: Operation, r: FuzzRequest, res: Answer): string | null {
    // A failing health check answers 503 with its report (terminus style, documented), not a problem.
    if (res.status === 503 && op.path.startsWith('/health')) return null;
    if (res.status >= 500) return `status ${res.status}`;
    if (res.status >= 400) {
      if (!/^application\/problem\+json/.test(res.contentType ?? '')) return `error without problem+json (${res.contentType})`;
      if (!catalog.has(res.code ?? '')) return `code ${res.code} not in the catalog`;
      if (res.problemStatus !== res.status) return `problem status ${res.problemStatus} for ${res.status}`;
    }
    if (r.extraKey !== undefined && res.status < 300) return `unknown key ${JSON.stringify(r.extraKey)} accepted`;
    // The URL is refused before the body is looked at (414, or a badly encoded one: 400 MALFORMED_REQUEST).
    const urlRefused = res.status === 414 || res.code === 'MALFORMED_REQUEST';
    if (r.contentType && r.contentType !== 'application/json' && !urlRefused && ![401, 403, 404, 415, 429].includes(res.status))
      return `${r.contentType} answered ${res.status}, not 415`;
    return null;
  }

  interface Answer {
    status: number;
    contentType?: string;
    code?: string;
    problemStatus?: number;
  }

  async function send(op: Operation, r: FuzzRequest): Promise<Answer> {
    const http = t.http();
    let req = http[op.method.toLowerCase() as 'get'](r.path + r.query);
    const token = tokenOf(cast, r.who);
    if (token) req = req.set('Authorization', `Bearer ${token}`);
    for (const [k, v] of Object.entries(r.headers)) req = req.set(k, v);
    if (r.body !== undefined) {
      if (typeof r.body === 'string') req = req.set('Content-Type', r.contentType ?? 'application/json');
      req = req.send(r.body as object);
    }
    const res = await req;
    const body = res.body as { code?: string; status?: number } | undefined;
    return { status: res.status, contentType: res.headers['content-type'], code: body?.code, problemStatus: body?.status };
  }

  /** Signs the cast in again and re-authenticates it (`onlyEnded`: only the users whose session ended). */
  async function refreshCast(onlyEnded: boolean): Promise<void> {
    await inBatches(Object.values(cast.users), 4, async (u) => {
      if (onlyEnded && (await t.http().get('/me').set('Authorization', `Bearer ${u.token}`)).status !== 401) return;
      const res = await t.http().post('/auth/login').send({ email: u.email, password: u.password, deviceToken: u.deviceToken });
      if (res.status !== 200) return; // the fuzzer may have locked or changed it: its requests stay unauthenticated
      u.token = res.body.accessToken;
      await t.http().post('/auth/reauth').set('Authorization', `Bearer ${u.token}`).send({ password: u.password });
    });
  }

  function show(r: FuzzRequest): string {
    const body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    return `${r.who} ${r.kind} ${r.path}${r.query} ${JSON.stringify(r.headers)} ${r.contentType ?? ''} ${(body ?? '').slice(0, 300)}`;
  }

  // ---- generators ----

  function resolve(s: Schema | undefined): Schema {
    let cur = s ?? {};
    for (let i = 0; cur.$ref && i < 10; i++) cur = schemas[cur.$ref.split('/').pop()!] ?? {};
    if (cur.allOf?.length)
      return cur.allOf.map(resolve).reduce((a, b) => ({ ...a, ...b, properties: { ...a.properties, ...b.properties } }), {});
    return cur;
  }

  const hostile = (): fc.Arbitrary<unknown> => fc.constantFrom(...HOSTILE_VALUES);

  /** Values that pass the server's own rules for fields known by name (the schema says less). */
  function hinted(name: string | undefined): fc.Arbitrary<unknown> | undefined {
    switch (name) {
      case 'email':
        return fc.constantFrom(uniqueEmail('fuzz'), cast.users.otherBuyer.email, 'not-an-address');
      case 'password':
      case 'currentPassword':
        return fc.constantFrom(cast.users.buyer.password, strongPassword());
      case 'newPassword':
        return fc.constant(strongPassword());
      case 'code':
        return fc.stringMatching(/^\d{6}$/);
      case 'packageId':
        return fc.constantFrom(cast.ids.tokenPackage, ...ids);
      case 'listingId':
      case 'parentListingId':
        return fc.constantFrom(cast.ids.published, cast.ids.draft);
      case 'resellerId':
        return fc.constantFrom(cast.users.reseller.id, cast.users.otherReseller.id);
      case 'toUserId':
      case 'giftToUserId':
      case 'userId':
        return fc.constantFrom(...Object.values(cast.users).map((u) => u.id));
      case 'amount':
      case 'profit':
      case 'credits':
      case 'priceCents':
        return fc.integer({ min: 0, max: 5_000 });
      case 'currency':
        return fc.constantFrom('USD', 'EUR');
      case 'category':
        return fc.constantFrom('hats', 'shoes');
      case 'advanceSeconds':
        return fc.integer({ min: 0, max: 60 });
      default:
        return undefined;
    }
  }

  /** A value the schema accepts (or nearly: the server's own rules are stricter than its schema). */
  function valid(s0: Schema | undefined, depth = 0, name?: string): fc.Arbitrary<unknown> {
    const s = resolve(s0);
    const hint = hinted(name);
    if (hint && !s.enum?.length)
      return fc.oneof({ arbitrary: hint, weight: 3 }, { arbitrary: valid({ ...s, $ref: undefined }, depth), weight: 1 });
    if (s.enum?.length) return fc.constantFrom(...s.enum);
    if (s.oneOf?.length || s.anyOf?.length) return fc.oneof(...(s.oneOf ?? s.anyOf)!.map((x) => valid(x, depth + 1)));
    switch (s.type) {
      case 'string':
        if (s.format === 'uuid') return fc.oneof(fc.constantFrom(...ids), fc.uuid());
        if (s.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
        if (s.format === 'email') return fc.emailAddress();
        return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 40) });
      case 'integer':
        return fc.integer({ min: Math.max(s.minimum ?? -1_000, -1e9), max: Math.min(s.maximum ?? 200_000, 1e12) });
      case 'number':
        return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true });
      case 'boolean':
        return fc.boolean();
      case 'array':
        return fc.array(valid(s.items, depth + 1), { maxLength: Math.min(s.maxItems ?? 3, 3) });
      default:
        if (s.properties && depth < 4) {
          const shape = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, valid(v, depth + 1, k)]));
          return fc.record(shape, { requiredKeys: (s.required ?? []).filter((k) => k in shape) });
        }
        return fc.jsonValue({ maxDepth: 2 });
    }
  }

  /** A valid body with one thing wrong: a hostile value, a missing field, an unknown or prototype key, deep nesting. */
  function mutated(schema: Schema): fc.Arbitrary<{ body: unknown; extraKey?: string }> {
    const s = resolve(schema);
    const keys = Object.keys(s.properties ?? {});
    const base = valid(schema).map((b) => (b && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : {}));
    const variants: fc.Arbitrary<{ body: unknown; extraKey?: string }>[] = [
      fc.tuple(base, fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 1 })).map(([b, k, v]) => {
        const key = k in b || keys.includes(k) ? `${k}_extra` : k;
        return { body: { ...b, [key]: v }, extraKey: s.additionalProperties ? undefined : key };
      }),
    ];
    if (keys.length) {
      variants.push(fc.tuple(base, fc.constantFrom(...keys), hostile()).map(([b, k, v]) => ({ body: { ...b, [k]: v } })));
      variants.push(
        fc
          .tuple(base, fc.constantFrom(...keys))
          .map(([b, k]) => ({ body: Object.fromEntries(Object.entries(b).filter(([x]) => x !== k)) })),
      );
      variants.push(
        fc.tuple(base, fc.constantFrom(...keys), fc.constantFrom(...keys)).map(([b, k, from]) => ({ body: { ...b, [k]: b[from] } })),
      );
    }
    {
      variants.push(
        fc.tuple(base, fc.constantFrom(...PROTOTYPE_KEYS), fc.jsonValue({ maxDepth: 1 })).map(([b, k, v]) => ({
          // JSON text, so that `__proto__` arrives as an own key, as a client would send it.
          body: `${JSON.stringify(b).slice(0, -1)}${Object.keys(b).length ? ',' : ''}${JSON.stringify(k)}:${JSON.stringify(v)}}`,
          extraKey: s.additionalProperties ? undefined : k,
        })),
      );
    }
    if (keys.length) {
      variants.push(fc.constantFrom(...keys).map((k) => ({ body: `{"${k}":${'['.repeat(5000)}${']'.repeat(5000)}}` })));
      variants.push(fc.constantFrom(...keys).map((k) => ({ body: `{"${k}":[${'0,'.repeat(49_000)}0]}` })));
    }
    return fc.oneof(...variants);
  }

  /** Not a JSON object at all: raw texts, other media types, another top-level value. */
  function hostileBody(schema: Schema | undefined): fc.Arbitrary<{ body: unknown; contentType?: string }> {
    const keys = Object.keys(resolve(schema).properties ?? {});
    const key = keys.length ? fc.constantFrom(...keys) : fc.constant('amount');
    const variants: fc.Arbitrary<{ body: unknown; contentType?: string }>[] = [
      fc.tuple(fc.constantFrom(...RAW_JSON), key).map(([raw, k]) => ({ body: raw.replace(/K/g, k) })),
      fc.constantFrom<unknown>([], [{}], 'text', 0, null).map((b) => ({ body: JSON.stringify(b) })),
    ];
    variants.push(
      fc.constant({ body: `${'['.repeat(49_000)}${']'.repeat(49_000)}` }),
      fc.constant({ body: `[${'0,'.repeat(49_000)}0]` }),
      fc.constantFrom(
        { body: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded' },
        { body: 'plain words', contentType: 'text/plain' },
        { body: '<a>1</a>', contentType: 'application/xml' },
      ),
    );
    return fc.oneof(...variants);
  }

  function segment(p: Parameter): fc.Arbitrary<string> {
    const s = resolve(p.schema);
    const good =
      s.format === 'uuid'
        ? fc.constantFrom(...ids)
        : p.name === 'paymentIntentId'
          ? fc.constantFrom(cast.ids.paymentIntent, 'pi_unknown')
          : p.name === 'email'
            ? fc.constantFrom(cast.users.buyer.email, 'nobody@example.com')
            : s.enum?.length
              ? fc.constantFrom(...s.enum.map(String))
              : fc.string({ minLength: 1, maxLength: 20 });
    return fc.oneof(
      { arbitrary: good.map(enc), weight: 3 },
      { arbitrary: fc.uuid(), weight: 1 },
      { arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS), weight: 2 },
    );
  }

  function queryValue(p: Parameter): fc.Arbitrary<string> {
    const good = valid(p.schema, 0, p.name).map((v) => enc(String(v)));
    const bad: fc.Arbitrary<string> = fc.oneof(
      fc.constantFrom('%00', '%ZZ', '', '-1', '1.5', '1e309', '99999999999999999999', 'x'.repeat(600), '[object Object]'),
      hostile()
        .filter((v) => !(typeof v === 'string' && v.length > 1000))
        .map((v) => enc(typeof v === 'string' ? v : JSON.stringify(v))),
      fc.constant('x'.repeat(20_000)),
    );
    return fc.oneof({ arbitrary: good, weight: 3 }, { arbitrary: bad, weight: 1 });
  }

  function requestFor(op: Operation): fc.Arbitrary<FuzzRequest> {
    const pathParams = op.parameters.filter((p) => p.in === 'path');
    const queryParams = op.parameters.filter((p) => p.in === 'query');
    const path = fc
      .tuple(...pathParams.map(segment))
      .map((values) => pathParams.reduce((acc, p, i) => acc.replace(`{${p.name}}`, values[i]), op.path));
    const query = fc
      .tuple(
        ...queryParams.map((p) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 1 }, { arbitrary: queryValue(p), weight: 1 })),
        fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 4 },
          { arbitrary: fc.constantFrom('unknown=1', 'limit=1&limit=2', '__proto__[x]=1', 'constructor=1'), weight: 1 },
        ),
      )
      .map((values) => {
        const pairs = queryParams.flatMap((p, i) => (values[i] === undefined ? [] : [`${p.name}=${values[i]}`]));
        const extra = values[queryParams.length];
        return [...pairs, ...(extra ? [extra] : [])];
      })
      .map((pairs) => (pairs.length ? `?${pairs.join('&')}` : ''));
    const headers = fc
      .oneof(
        { arbitrary: fc.uuid().map((k): Record<string, string> => ({ 'Idempotency-Key': k })), weight: 4 },
        {
          arbitrary: fc.constantFrom<Record<string, string>>({}, { 'Idempotency-Key': 'x'.repeat(256) }, { 'Idempotency-Key': 'a b' }),
          weight: 1,
        },
      )
      .map((h): Record<string, string> => (op.path === '/webhooks/stripe' ? { ...h, 'Stripe-Signature': 't=1,v1=00' } : h));
    const withBody = op.method !== 'GET' && op.method !== 'DELETE';
    type Body = { kind: FuzzRequest['kind']; body?: unknown; contentType?: string; extraKey?: string };
    const body: fc.Arbitrary<Body> = !withBody
      ? fc.constant({ kind: 'valid' as const })
      : op.body
        ? fc.oneof(
            { arbitrary: valid(op.body).map((b): Body => ({ kind: 'valid', body: b })), weight: 2 },
            { arbitrary: mutated(op.body).map((m): Body => ({ kind: 'mutated', ...m })), weight: 2 },
            { arbitrary: hostileBody(op.body).map((h): Body => ({ kind: 'hostile', ...h })), weight: 1 },
          )
        : fc.oneof(
            fc.constant<Body>({ kind: 'valid' }),
            fc.constant<Body>({ kind: 'valid', body: {} }),
            hostileBody(undefined).map((h): Body => ({ kind: 'hostile', ...h })),
            fc.constant<Body>({ kind: 'mutated', body: { unexpected: 1 }, extraKey: 'unexpected' }),
          );
    const who = fc.oneof(
      { arbitrary: fc.constantFrom(...WHO.slice(0, 5)), weight: 4 },
      { arbitrary: fc.constantFrom(...WHO.slice(5)), weight: 1 },
    );
    return fc.record({ who, path, query, headers, body }).map(({ who, path, query, headers, body }) => ({
      who,
      path,
      query,
      headers,
      ...body,
    }));
  }
});
