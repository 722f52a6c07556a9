import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Histogram, register } from 'prom-client';
import { routeTemplate } from '../common/request-log';

if (!register.getSingleMetric('process_cpu_seconds_total')) collectDefaultMetrics();

const httpDuration =
  (register.getSingleMetric('http_request_duration_seconds') as Histogram<string> | undefined) ??
  new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });

@Injectable()
export class MetricsMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    const end = httpDuration.startTimer();
    res.on('finish', () => {
      // The matched route pattern keeps label cardinality bounded (never the raw URL with ids).
      end({ method: req.method, route: routeTemplate(req) ?? 'unmatched', status: String(res.statusCode) });
    });
    next();
  }
}
