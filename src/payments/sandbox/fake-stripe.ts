import { createHash, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { parseFormBody } from './form-body';
import {
  type FakeCard,
  FakeStripeError,
  FakeStripeScenarios,
  stripeEvent,
  type JsonObject,
  type StripeObject,
} from './fake-stripe.scenarios';
import { MemorySandboxStore, type SandboxStore } from './sandbox-store';

export { FakeStripeError } from './fake-stripe.scenarios';
export type { FakeCard } from './fake-stripe.scenarios';

export interface FakeStripeOptions {
  webhookSecret: string;
  /** Where events caused by API calls (refunds) are delivered; undefined: they are only recorded. */
  webhookUrl?: () => string | undefined;
  onError?: (message: string, err: unknown) => void;
  /** Where its objects live; default this process's memory (which the synchronous scenario methods need). */
  store?: SandboxStore;
  /** Keep every request in `requests` (default true; the server's long-running sandbox does not). */
  recordRequests?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  idempotencyKey?: string;
  params: JsonObject;
}

/** `webhookStatus` is null when there was no endpoint to deliver to or the delivery failed. */
export interface DeliveryResult {
  eventId: string;
  type: string;
  webhookStatus: number | null;
}

/**
 * A small Stripe-compatible HTTP server: the endpoints Bazaar calls (PaymentIntents, Charges,
 * Refunds), Stripe-shaped JSON and errors, `Idempotency-Key` replay, and signed webhook delivery.
 * The server's sandbox mode (no STRIPE_SECRET_KEY) and the test suites run the real `stripe` SDK
 * against this one implementation, the sandbox on the PostgreSQL store, the tests on the memory
 * store. `play` runs a scenario of the customer's bank (pay, decline, dispute) on any store; on the
 * memory store the scenario methods (`succeed`, `dispute`, ...) answer at once.
 */
export class FakeStripe {
  readonly requests: RecordedRequest[] = [];
  private server?: Server;
  private latencyMs = 0;
  private failures: { pattern: RegExp; status: number }[] = [];
  private readonly store: SandboxStore;

  constructor(private readonly opts: FakeStripeOptions) {
    this.store = opts.store ?? new MemorySandboxStore();
  }

  /** Runs a scenario on the objects of PaymentIntent `paymentIntent` (saved when it returns); answers its events. */
  play(paymentIntent: string, scenario: (bank: FakeStripeScenarios) => Stripe.Event[]): Promise<Stripe.Event[]> {
    return this.store.change(paymentIntent, (objs) => scenario(new FakeStripeScenarios(objs)));
  }

  /** The customer pays: a succeeded charge with card details and a Radar score (memory store). */
  succeed(piId: string, card: FakeCard = {}): Stripe.Event[] {
    return this.now(piId, (bank) => bank.succeed(piId, card));
  }

  /** The customer's payment attempt is declined (memory store). */
  fail(piId: string, decline: { code?: string; message?: string } = {}): Stripe.Event {
    return this.now(piId, (bank) => bank.fail(piId, decline));
  }

  /** The cardholder disputes the charge with their bank (memory store). */
  dispute(piId: string, reason = 'fraudulent'): Stripe.Event {
    return this.now(piId, (bank) => bank.dispute(piId, reason));
  }

  /** The bank decides the dispute (memory store). */
  closeDispute(piId: string, status: 'won' | 'lost'): Stripe.Event {
    return this.now(piId, (bank) => bank.closeDispute(piId, status));
  }

  /** A Stripe event for an arbitrary object (for example an event type Bazaar does not handle; memory store). */
  emit(type: string, object: Record<string, unknown>): Stripe.Event {
    const event = stripeEvent(type, object);
    this.memory.events.push(event);
    return event;
  }

  /** Every event so far (memory store). */
  get events(): Stripe.Event[] {
    return this.memory.events;
  }

  eventsOfType(type: string): Stripe.Event[] {
    return this.events.filter((e) => e.type === type);
  }

  paymentIntent(piId: string): Stripe.PaymentIntent {
    return this.objectNow('payment_intent', piId) as unknown as Stripe.PaymentIntent;
  }

  charge(chargeId: string): Stripe.Charge {
    return this.objectNow('charge', chargeId) as unknown as Stripe.Charge;
  }

  refund(refundId: string): Stripe.Refund {
    return this.objectNow('refund', refundId) as unknown as Stripe.Refund;
  }

  private get memory(): MemorySandboxStore {
    if (!(this.store instanceof MemorySandboxStore)) throw new Error('only a fake Stripe on the memory store answers at once: use play()');
    return this.store;
  }

  private now<T>(piId: string, scenario: (bank: FakeStripeScenarios) => T): T {
    return this.memory.changeNow(piId, (objs) => scenario(new FakeStripeScenarios(objs)));
  }

  private objectNow(kind: string, objId: string): StripeObject {
    return found(kind, objId, this.memory.findNow(objId));
  }

  get webhookSecret(): string {
    return this.opts.webhookSecret;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Options for `new Stripe(key, ...)` that point the SDK at this server. */
  get clientOptions(): { host: string; port: number; protocol: 'http' } {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('fake Stripe is not started');
    return { host: addr.address, port: addr.port, protocol: 'http' };
  }

  get url(): string {
    const { host, port } = this.clientOptions;
    return `http://${host}:${port}`;
  }

  /** Delays every answer (to hold a request in flight). */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Answers matching requests (`METHOD /path`) with a Stripe API error until cleared. */
  failRequests(pattern: RegExp, status = 503): void {
    this.failures.push({ pattern, status });
  }

  clearFailures(): void {
    this.failures = [];
  }

  /** The body and `Stripe-Signature` header Stripe would send for this event. */
  sign(event: Stripe.Event, timestamp?: number): { payload: string; header: string } {
    const payload = JSON.stringify(event, null, 2);
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: this.opts.webhookSecret, timestamp });
    return { payload, header };
  }

  /** POSTs the signed event to a webhook endpoint, as Stripe does. */
  async deliver(event: Stripe.Event, url: string): Promise<{ status: number; body: string }> {
    const { payload, header } = this.sign(event);
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        'Stripe-Signature': header,
        'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      },
      body: payload,
    });
    return { status: res.status, body: await res.text() };
  }

  /**
   * Delivers to the configured endpoint, if any. A failed delivery is reported, not thrown: Stripe
   * would retry it later.
   */
  async deliverToEndpoint(events: Stripe.Event[]): Promise<DeliveryResult[]> {
    const url = this.opts.webhookUrl?.();
    const results: DeliveryResult[] = [];
    for (const event of events) {
      let status: number | null = null;
      try {
        if (url) {
          const res = await this.deliver(event, url);
          status = res.status;
          if (res.status >= 300) this.opts.onError?.(`webhook ${event.type} answered ${res.status}`, res.body);
        }
      } catch (err) {
        this.opts.onError?.(`webhook ${event.type} delivery failed`, err);
      }
      results.push({ eventId: event.id, type: event.type, webhookStatus: status });
    }
    return results;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await readBody(req);
      if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
      const url = new URL(req.url ?? '/', 'http://fake');
      const method = req.method ?? 'GET';
      const params = method === 'GET' ? parseFormBody(url.search.slice(1)) : parseFormBody(body);
      const key = header(req, 'idempotency-key');
      if (this.opts.recordRequests ?? true) this.requests.push({ method, path: url.pathname, idempotencyKey: key, params });

      if (!/^Bearer sk_(test|live)_\w+/.test(header(req, 'authorization') ?? '')) {
        return send(res, 401, apiError('invalid_request_error', 'Invalid API Key provided.'));
      }
      const failure = this.failures.find((f) => f.pattern.test(`${method} ${url.pathname}`));
      if (failure) {
        return send(res, failure.status, apiError('api_error', 'Injected failure (fake Stripe).'), { 'Stripe-Should-Retry': 'false' });
      }
      const fingerprint = createHash('sha256')
        .update(`${method} ${url.pathname}\n${JSON.stringify(params)}`)
        .digest('hex');
      const idempotent = key && method === 'POST' ? key : undefined;
      const stored = idempotent ? await this.store.claimKey(idempotent, fingerprint) : undefined;
      if (stored) {
        if (stored.fingerprint !== fingerprint) {
          return send(
            res,
            400,
            apiError(
              'idempotency_error',
              'Keys for idempotent requests can only be used with the same parameters they were first used with.',
            ),
          );
        }
        if (!stored.answer) {
          return send(
            res,
            409,
            apiError(
              'idempotency_error',
              'There is currently another in-progress request using this Idempotent Key.',
              'idempotency_key_in_use',
            ),
          );
        }
        return send(res, stored.answer.status, stored.answer.body, { 'Idempotent-Replayed': 'true' });
      }
      let answer: { status: number; body: unknown; events: Stripe.Event[] };
      try {
        answer = await this.route(method, url.pathname, params);
      } catch (err) {
        if (idempotent) await this.store.releaseKey(idempotent);
        throw err;
      }
      const { status, body: answerBody, events } = answer;
      if (idempotent) {
        if (status < 500) await this.store.answerKey(idempotent, { status, body: answerBody });
        else await this.store.releaseKey(idempotent);
      }
      // Stripe sends webhooks asynchronously; delivering before answering makes the race (event
      // before API response) deterministic in tests and harmless in the sandbox.
      if (events.length) await this.deliverToEndpoint(events);
      send(res, status, answerBody);
    } catch (err) {
      this.opts.onError?.('fake Stripe request failed', err);
      send(res, 500, apiError('api_error', 'Fake Stripe internal error.'));
    }
  }

  private async route(
    method: string,
    path: string,
    params: JsonObject,
  ): Promise<{ status: number; body: unknown; events: Stripe.Event[] }> {
    const ok = (body: unknown, events: Stripe.Event[] = []) => ({ status: 200, body, events });
    const get = async (kind: string, objId: string) => ok(found(kind, objId, await this.store.find(objId)));
    try {
      let m: RegExpExecArray | null;
      if (method === 'POST' && path === '/v1/payment_intents') {
        return ok(await this.store.change(undefined, (objs) => new FakeStripeScenarios(objs).createPaymentIntent(params)));
      }
      if (method === 'GET' && (m = /^\/v1\/payment_intents\/([\w-]+)$/.exec(path))) return await get('payment_intent', m[1]);
      if (method === 'GET' && (m = /^\/v1\/charges\/([\w-]+)$/.exec(path))) return await get('charge', m[1]);
      if (method === 'POST' && path === '/v1/refunds') {
        const charge = typeof params.charge === 'string' ? await this.store.find(params.charge) : undefined;
        const paymentIntent =
          typeof params.payment_intent === 'string' ? params.payment_intent : (charge?.payment_intent as string | undefined);
        const { refund, events } = await this.store.change(paymentIntent, (objs) => new FakeStripeScenarios(objs).createRefund(params));
        return ok(refund, events);
      }
      if (method === 'GET' && (m = /^\/v1\/refunds\/([\w-]+)$/.exec(path))) return await get('refund', m[1]);
      return { status: 404, body: apiError('invalid_request_error', `Unrecognized request URL (${method}: ${path}).`), events: [] };
    } catch (err) {
      if (err instanceof FakeStripeError)
        return { status: err.status, body: apiError(err.type, err.message, err.code, err.param), events: [] };
      throw err;
    }
  }
}

/** `obj` when it is a `kind` (Stripe answers 404 for an id of another kind). */
function found(kind: string, objId: string, obj: StripeObject | undefined): StripeObject {
  if (obj?.object !== kind) {
    throw new FakeStripeError(404, 'invalid_request_error', `No such ${kind}: '${objId}'`, 'resource_missing', 'id');
  }
  return obj;
}

/** A webhook signing secret in Stripe's format. */
export function randomWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('hex')}`;
}

function apiError(type: string, message: string, code?: string, param?: string): { error: JsonObject } {
  return { error: { type, message, ...(code ? { code } : {}), ...(param ? { param } : {}) } };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Request-Id': `req_${randomBytes(8).toString('hex')}`,
    ...headers,
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
