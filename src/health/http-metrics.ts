import { collectDefaultMetrics, Histogram, register } from 'prom-client';

if (!register.getSingleMetric('process_cpu_seconds_total')) collectDefaultMetrics();

const httpDuration =
  (register.getSingleMetric('http_request_duration_seconds') as Histogram<string> | undefined) ??
  new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });

/** Every answered request (the request-log hooks call it): the matched route pattern keeps label cardinality bounded. */
export function observeHttpRequest(method: string, route: string | null, status: number, ms: number): void {
  httpDuration.observe({ method, route: route ?? 'unmatched', status: String(status) }, ms / 1000);
}
