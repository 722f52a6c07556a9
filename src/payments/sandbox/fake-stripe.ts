import { createHash, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { parseFormBody } from './form-body';
import { FakeStripeError, FakeStripeScenarios, type JsonObject } from './fake-stripe.scenarios';

export { FakeStripeError } from './fake-stripe.scenarios';
export type { FakeCard } from './fake-stripe.scenarios';

export interface FakeStripeOptions {
  webhookSecret: string;
  /** Where events caused by API calls (refunds) are delivered; undefined: they are only recorded. */
  webhookUrl?: () => string | undefined;
  onError?: (message: string, err: unknown) => void;
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

interface StoredResponse {
  fingerprint: string;
  status: number;
  body: unknown;
}

/**
 * A small Stripe-compatible HTTP server: the endpoints Bazaar calls (PaymentIntents, Charges,
 * Refunds), Stripe-shaped JSON and errors, `Idempotency-Key` replay, and signed webhook delivery.
 * The server's sandbox mode (no STRIPE_SECRET_KEY) and the test suites run the real `stripe` SDK
 * against this one implementation; the scenario methods play the customer's bank (pay, decline,
 * dispute).
 */
export class FakeStripe extends FakeStripeScenarios {
  readonly requests: RecordedRequest[] = [];
  private server?: Server;
  private latencyMs = 0;
  private failures: { pattern: RegExp; status: number }[] = [];
  private readonly idempotent = new Map<string, StoredResponse>();

  constructor(private readonly opts: FakeStripeOptions) {
    super();
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
      this.requests.push({ method, path: url.pathname, idempotencyKey: key, params });

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
      const stored = key && method === 'POST' ? this.idempotent.get(key) : undefined;
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
        return send(res, stored.status, stored.body, { 'Idempotent-Replayed': 'true' });
      }
      const { status, body: answer, events } = this.route(method, url.pathname, params);
      if (key && method === 'POST' && status < 500) this.idempotent.set(key, { fingerprint, status, body: answer });
      // Stripe sends webhooks asynchronously; delivering before answering makes the race (event
      // before API response) deterministic in tests and harmless in the sandbox.
      if (events.length) await this.deliverToEndpoint(events);
      send(res, status, answer);
    } catch (err) {
      this.opts.onError?.('fake Stripe request failed', err);
      send(res, 500, apiError('api_error', 'Fake Stripe internal error.'));
    }
  }

  private route(method: string, path: string, params: JsonObject): { status: number; body: unknown; events: Stripe.Event[] } {
    const ok = (body: unknown, events: Stripe.Event[] = []) => ({ status: 200, body, events });
    try {
      let m: RegExpExecArray | null;
      if (method === 'POST' && path === '/v1/payment_intents') return ok(this.createPaymentIntent(params));
      if (method === 'GET' && (m = /^\/v1\/payment_intents\/([\w-]+)$/.exec(path))) return ok(this.paymentIntent(m[1]));
      if (method === 'GET' && (m = /^\/v1\/charges\/([\w-]+)$/.exec(path))) return ok(this.charge(m[1]));
      if (method === 'POST' && path === '/v1/refunds') {
        const { refund, events } = this.createRefund(params);
        return ok(refund, events);
      }
      if (method === 'GET' && (m = /^\/v1\/refunds\/([\w-]+)$/.exec(path))) return ok(this.refund(m[1]));
      return { status: 404, body: apiError('invalid_request_error', `Unrecognized request URL (${method}: ${path}).`), events: [] };
    } catch (err) {
      if (err instanceof FakeStripeError)
        return { status: err.status, body: apiError(err.type, err.message, err.code, err.param), events: [] };
      throw err;
    }
  }
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
