import { ERROR_STATUS, ErrorCode } from '../../src/common/errors';
import { enumerateRoutes, Route } from '../support/routes';
import { TestApp, useTestApp } from '../support/test-app';

/**
 * The API documentation standard (docs/api.md "OpenAPI"), checked on the served document: every operation has a
 * summary, a success schema, its error responses with their codes, uuid path ids, its headers and an example,
 * so a new route cannot slip in undocumented. Each failure names the operation and what it lacks.
 */

interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  example?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  maximum?: number;
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
}
interface Content {
  [type: string]: { schema?: Schema; example?: unknown; examples?: unknown };
}
interface Operation {
  summary?: string;
  parameters?: Parameter[];
  requestBody?: { content: Content };
  responses: Record<string, { description?: string; content?: Content; headers?: Record<string, { schema?: Schema }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** Statuses that may answer without a body. */
const BODYLESS = new Set(['202', '204']);
/** Path parameters called `…Id` that are not our UUIDs. */
const NOT_UUID_PARAMS = new Set(['paymentIntentId']);
/** Fields called `…Id` that are not our UUIDs (Stripe's), and the schemas of Stripe's objects, whose ids are Stripe's. */
const NOT_UUID_FIELDS = new Set(['paymentIntentId', 'chargeId']);
const STRIPE_SCHEMAS = ['StripeEventDto', 'PurchaseDisputeDto', 'SandboxDeliveryDto'];
/** A field or query parameter that names one of our records: `id`, `…Id`, `…Ids`, or a user as `…By` (`decidedBy`). */
const isIdName = (name: string | undefined): boolean => !!name && (name === 'id' || /(Ids?|By)$/.test(name)) && !NOT_UUID_FIELDS.has(name);
/** Numeric fields that are not amounts or counts: ratios and scores may be fractional. */
const FRACTIONAL = new Set([
  ...['precision', 'recall', 'completionRate', 'disputeRate', 'lossRate'],
  // the economy report's rates and shares
  ...['rate', 'approvedShare', 'returningBuyerShare', 'share', 'reciprocity', 'visaRate', 'mastercardRate', 'medianSecondsToContain'],
]);

let doc: Document;
const resolve = (s: Schema | undefined): Schema | undefined =>
  s?.$ref ? doc.components.schemas[s.$ref.replace('#/components/schemas/', '')] : s;

/** The schema with its $refs and allOf parts followed, each schema once; `parent` is the object a property is of. */
function walk(
  s: Schema | undefined,
  visit: (s: Schema, name?: string, parent?: Schema) => void,
  seen = new Set<Schema>(),
  name?: string,
  parent?: Schema,
): void {
  const r = resolve(s);
  if (!r || seen.has(r)) return;
  seen.add(r);
  visit(r, name, parent);
  for (const [k, p] of Object.entries(r.properties ?? {})) walk(p, visit, seen, k, r);
  walk(r.items, visit, seen, name, parent);
  for (const part of [...(r.allOf ?? []), ...(r.oneOf ?? [])]) walk(part, visit, seen, name, parent);
}
const hasExample = (content: Content | undefined): boolean =>
  Object.values(content ?? {}).some((c) => {
    if (c.example !== undefined || c.examples !== undefined) return true;
    let found = false;
    walk(c.schema, (s) => (found ||= s.example !== undefined));
    return found;
  });
const schemaOf = (content: Content | undefined): Schema | undefined => Object.values(content ?? {})[0]?.schema;
const propertiesOf = (s: Schema | undefined): Record<string, Schema> => {
  const props: Record<string, Schema> = {};
  walk(s, (p) => Object.assign(props, p.properties ?? {}));
  return props;
};

interface Op {
  name: string;
  path: string;
  method: string;
  op: Operation;
}

function lacks(o: Op, routes: Map<string, Route>): string[] {
  const { op } = o;
  const problems: string[] = [];
  if (!op.summary?.trim()) problems.push('no summary');
  const statuses = Object.keys(op.responses);
  const success = statuses.filter((s) => /^2/.test(s));
  if (success.length === 0) problems.push('no success response');
  for (const s of success) {
    if (!BODYLESS.has(s) && !schemaOf(op.responses[s].content)) problems.push(`no schema for ${s}`);
  }
  const errors = statuses.filter((s) => /^[45]/.test(s));
  if (errors.length === 0) problems.push('no error response');
  for (const s of errors) {
    const { description = '', content } = op.responses[s];
    const codes = description
      .replace(/^problem\+json: /, '')
      .split('; ')
      .map((c) => c.split(' ')[0]);
    if (!content?.['application/problem+json']) {
      // A body of its own (the health check's 503) is documented by its schema; anything else is a problem+json.
      if (!schemaOf(content)) problems.push(`${s} not through ApiProblems`);
      continue;
    }
    if (!description.startsWith('problem+json: ')) problems.push(`${s} not through ApiProblems`);
    if (s === '429' && op.responses[s].headers?.['Retry-After']?.schema?.type !== 'integer') problems.push('429 without Retry-After');
    for (const code of codes) {
      if (ERROR_STATUS[code as ErrorCode] !== Number(s)) problems.push(`${s} lists ${code}, which is not a ${s} code`);
    }
  }

  const params = op.parameters ?? [];
  for (const name of [...o.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
    const p = params.find((x) => x.in === 'path' && x.name === name);
    if (!p) problems.push(`path parameter ${name} undocumented`);
    else if ((name === 'id' || /Id$/.test(name)) && !NOT_UUID_PARAMS.has(name) && p.schema?.format !== 'uuid')
      problems.push(`path parameter ${name} without format uuid`);
  }

  for (const p of params.filter((x) => x.in === 'query' && isIdName(x.name) && x.schema?.format !== 'uuid'))
    problems.push(`query parameter ${p.name} without format uuid`);

  const route = routes.get(o.name);
  const documented = new Set(
    errors.flatMap((s) => (resolve(schemaOf(op.responses[s].content))?.properties?.code as { enum?: string[] } | undefined)?.enum ?? []),
  );
  const expected = [
    ...(route?.roles?.length ? ['UNAUTHENTICATED'] : []),
    ...(route?.roles?.length && !route.roles.includes('buyer') ? ['FORBIDDEN'] : []),
    ...(route?.sensitive ? ['REAUTH_REQUIRED'] : []),
    ...(route?.idempotent ? ['IDEMPOTENCY_KEY_REQUIRED', 'IDEMPOTENCY_IN_PROGRESS', 'IDEMPOTENCY_KEY_REUSED'] : []),
  ];
  const missing = expected.filter((c) => !documented.has(c));
  if (missing.length) problems.push(`its guards answer ${missing.join(', ')}, undocumented`);
  const key = params.find((p) => p.in === 'header' && p.name === 'Idempotency-Key');
  if (route?.idempotent && !key?.required) problems.push('idempotent, Idempotency-Key header undocumented');
  if (!route?.idempotent && key) problems.push('documents Idempotency-Key but is not @Idempotent()');

  const body = op.requestBody ? schemaOf(op.requestBody.content) : undefined;
  if (op.requestBody && Object.keys(propertiesOf(body)).length === 0) problems.push('request body without properties');

  const ok = success.length ? op.responses[success[0]] : undefined;
  const okProps = propertiesOf(schemaOf(ok?.content));
  if (resolve(okProps.items)?.type === 'array' && 'nextCursor' in okProps) {
    const limit = params.find((p) => p.in === 'query' && p.name === 'limit');
    if (!limit || limit.schema?.type !== 'integer' || limit.schema.maximum !== 200) problems.push('list without limit (integer, max 200)');
    if (!params.some((p) => p.in === 'query' && p.name === 'cursor')) problems.push('list without cursor');
  }

  const exemplified = hasExample(ok?.content) || hasExample(op.requestBody?.content);
  const nothingToShow = BODYLESS.has(success[0]) && !ok?.content && !op.requestBody;
  if (!exemplified && !nothingToShow) problems.push('no example');

  for (const s of [schemaOf(ok?.content), body]) {
    walk(s, (p, name, parent) => {
      if (p.type === 'number' && !FRACTIONAL.has(name ?? '')) problems.push(`${name ?? 'a value'} is number, not integer`);
      const stripes = parent && STRIPE_SCHEMAS.some((n) => doc.components.schemas[n] === parent);
      if (isIdName(name) && !p.enum && !['array', 'object'].includes(p.type ?? '') && p.format !== 'uuid' && !stripes)
        problems.push(`${name} without format uuid`);
    });
  }
  return problems;
}

describe('the OpenAPI document', () => {
  let t: TestApp;
  let ops: Op[];
  let routes: Map<string, Route>;
  useTestApp((app) => (t = app));
  beforeAll(async () => {
    const res = await t.http().get('/docs-json').expect(200);
    doc = res.body as Document;
    ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, path, method, op })),
    );
    routes = new Map(enumerateRoutes(t).map((r) => [`${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`, r]));
  });

  it('documents every route of the application', () => {
    const documented = new Set(ops.map((o) => o.name));
    // The development HTML pages emailed links open (src/dev/dev-pages.controller.ts) are no API operations.
    const pages = new Set(['GET /verify-email', 'GET /reset-password']);
    expect([...routes.keys()].filter((r) => !documented.has(r) && !pages.has(r))).toEqual([]);
  });

  it('documents every operation to the standard (summary, schemas, errors, ids, headers, lists, example)', () => {
    const failing = ops.map((o) => ({ o, problems: lacks(o, routes) })).filter((x) => x.problems.length > 0);
    expect(failing.map(({ o, problems }) => `${o.name}: ${problems.join(', ')}`)).toEqual([]);
  });

  it("documents the Stripe webhook's signature header and raw event body", () => {
    const op = doc.paths['/webhooks/stripe'].post;
    expect(op.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ in: 'header', name: 'Stripe-Signature', required: true })]),
    );
    expect(Object.keys(propertiesOf(schemaOf(op.requestBody?.content)))).toEqual(expect.arrayContaining(['id', 'type', 'data']));
  });

  it("flags ids not documented as UUIDs, in a response and a query, but not Stripe's (the check can fail)", () => {
    const string = () => ({ type: 'string', example: '17' });
    const listing: Op = {
      name: 'GET /bare',
      path: '/bare',
      method: 'get',
      op: {
        summary: 'a list',
        parameters: [{ name: 'userId', in: 'query', schema: string() }],
        responses: {
          '200': {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    id: string(),
                    decidedBy: string(),
                    chargeId: string(),
                    dispute: { $ref: '#/components/schemas/PurchaseDisputeDto' },
                  },
                },
              },
            },
          },
        },
      },
    };
    expect(lacks(listing, new Map()).filter((p) => p.includes('uuid'))).toEqual([
      'query parameter userId without format uuid',
      'id without format uuid',
      'decidedBy without format uuid',
    ]);
  });

  it('flags an undocumented operation, naming it (the check can fail)', () => {
    const bare: Op = { name: 'GET /bare/{id}', path: '/bare/{id}', method: 'get', op: { responses: { '200': { description: '' } } } };
    expect(lacks(bare, new Map())).toEqual([
      'no summary',
      'no schema for 200',
      'no error response',
      'path parameter id undocumented',
      'no example',
    ]);
    const limited = { description: 'problem+json: RATE_LIMITED', content: { 'application/problem+json': { schema: {} } } };
    const throttled: Op = { ...bare, op: { ...bare.op, responses: { ...bare.op.responses, '429': limited } } };
    expect(lacks(throttled, new Map())).toContain('429 without Retry-After');
  });
});
