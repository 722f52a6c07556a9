import { Counter, Gauge, Histogram, register } from 'prom-client';

/**
 * Prometheus metrics live in prom-client's global registry, so a metric is created once per process
 * and found again by name (several applications in one process, as in the e2e tests, share it).
 */
function metric<T>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}

export const counter = (name: string, help: string, labelNames: string[] = []): Counter<string> =>
  metric(name, () => new Counter({ name, help, labelNames }));

export const histogram = (name: string, help: string, labelNames: string[], buckets: number[]): Histogram<string> =>
  metric(name, () => new Histogram({ name, help, labelNames, buckets }));

/** A gauge set by the application (e.g. by a job), not read at scrape time. */
export const gauge = (name: string, help: string, labelNames: string[] = []): Gauge<string> =>
  metric(name, () => new Gauge({ name, help, labelNames }));

export type GaugeReader = () => Promise<[Record<string, string>, number][]>;

const readers = new Map<string, GaugeReader>();

/**
 * A gauge whose values are read when /metrics is scraped, from the reader `readGauge` registered under
 * its name (the application's that started last). A reader that fails (the database is down) leaves
 * the gauge empty rather than failing the scrape.
 */
export function scrapedGauge(name: string, help: string, labelNames: string[] = []): void {
  metric(
    name,
    () =>
      new Gauge({
        name,
        help,
        labelNames,
        async collect() {
          this.reset();
          const values = await readers
            .get(name)?.()
            .catch(() => []);
          for (const [labels, value] of values ?? []) this.set(labels, value);
        },
      }),
  );
}

/** Makes `read` the source of the gauge `name`; the answer removes it again (unless replaced since). */
export function readGauge(name: string, read: GaugeReader): () => void {
  readers.set(name, read);
  return () => {
    if (readers.get(name) === read) readers.delete(name);
  };
}

const LAG_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600];

/** Business and queue metrics (docs/architecture.md, "Operations"), counted once the change commits. */
export const BusinessMetrics = {
  tokenPurchases: counter('token_purchases_total', 'Token purchases reaching a status as Stripe events are applied, by outcome', [
    'outcome',
  ]),
  orders: counter('orders_total', 'Item purchases decided, by outcome: the order status or the refusal code', ['outcome']),
  ledgerEntries: counter('ledger_entries_total', 'Ledger entries committed, by kind', ['kind']),
  webhookReceived: counter('stripe_webhook_events_received_total', 'Signed Stripe events received, by type and whether already recorded', [
    'type',
    'duplicate',
  ]),
  webhookProcessed: counter('stripe_webhook_events_processed_total', 'Stripe events processed, by resulting status', ['status']),
  webhookLag: histogram('stripe_webhook_lag_seconds', 'From an event created at Stripe to it applied here', [], LAG_BUCKETS),
  jobFailures: counter('job_failures_total', 'Scheduled or queued job runs that threw, by job', ['job']),
  idempotencyConflicts: counter('idempotency_conflicts_total', 'Requests refused for their Idempotency-Key, by code', ['code']),
};
