import { randomUUID } from 'node:crypto';
import type { Nodes } from './nodes';

/**
 * A client's request as a payments client sends it: to a random node; after a timeout, a connection
 * error, a 5xx or 409 IDEMPOTENCY_IN_PROGRESS, again with the same Idempotency-Key (possibly on another
 * node) until a definite answer or the give-up deadline (status 0: unknown).
 */
export interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of many routes
  body: any;
  attempts: number;
  replayed: boolean;
}

export interface Call {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  body?: object;
  token?: string;
  /** An Idempotency-Key, the same on every attempt. */
  key?: string;
}

export class Traffic {
  requests = 0;
  operations = 0;
  acknowledged = 0;
  retried = 0;
  unknown = 0;
  readonly failures = new Map<string, number>();
  readonly rejections = new Map<string, number>();
  /** The first answer of each kind of refusal, for the report. */
  readonly examples = new Map<string, string>();
  /** Every 500 (a fault the server did not classify): route and request id, to find in the nodes' logs (BANK_LOGS). */
  readonly internalErrors: string[] = [];

  constructor(
    private readonly nodes: Nodes,
    private readonly opts: { timeoutMs: number; giveUpMs: number },
  ) {}

  async send(call: Call): Promise<Answer> {
    this.operations++;
    const giveUp = Date.now() + this.opts.giveUpMs;
    for (let attempt = 1; ; attempt++) {
      this.requests++;
      const outcome = await this.attempt(call);
      if (outcome.definite) {
        if (attempt > 1) this.retried++;
        if (outcome.status < 300) this.acknowledged++;
        else {
          const kind = `${outcome.status} ${outcome.body?.code ?? ''} ${call.method} ${call.path.replace(UUID, ':id')}${attempt > 1 ? ' (retried)' : ''}`;
          count(this.rejections, kind);
          if (!this.examples.has(kind)) this.examples.set(kind, JSON.stringify(outcome.body));
        }
        return { status: outcome.status, body: outcome.body, attempts: attempt, replayed: outcome.replayed };
      }
      count(this.failures, outcome.failure);
      if (Date.now() > giveUp) {
        this.unknown++;
        return { status: 0, body: { failure: outcome.failure }, attempts: attempt, replayed: false };
      }
      await sleep(50 + Math.random() * 250 * Math.min(attempt, 8));
    }
  }

  private async attempt(call: Call) {
    const headers: Record<string, string> = {};
    if (call.body !== undefined) headers['Content-Type'] = 'application/json';
    if (call.token) headers.Authorization = `Bearer ${call.token}`;
    if (call.key) headers['Idempotency-Key'] = call.key;
    try {
      const res = await fetch(`${this.nodes.anyUrl()}${call.path}`, {
        method: call.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      const text = await res.text();
      const body = text ? JSON.parse(text) : undefined;
      const inProgress = res.status === 409 && body?.code === 'IDEMPOTENCY_IN_PROGRESS';
      if (res.status === 500) this.internalErrors.push(`${call.method} ${call.path} request ${body?.requestId ?? '?'}`);
      if (res.status >= 500 || inProgress) return { definite: false as const, failure: `${res.status} ${body?.code ?? ''}`.trim() };
      return { definite: true as const, status: res.status, body, replayed: res.headers.get('idempotent-replayed') === 'true' };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return { definite: false as const, failure: e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.name) };
    }
  }
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

export const newKey = (): string => randomUUID();

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function count(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}
