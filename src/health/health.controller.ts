import { Controller, Get, Header, Req, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorFunction, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { register } from 'prom-client';
import { ApiProblems, UNEXPECTED } from '../common/api-problems';
import { Public } from '../common/auth.decorators';
import { AppConfig } from '../config/app-config';
import { HealthReportDto } from './dto/health-report.dto';
import { HealthErrors } from './health.errors';
import { HealthIndicators } from './health-indicators.service';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Liveness, readiness and metrics, terminus style: 200 `{status: 'ok', info, error, details}`, or 503
 * with the failing checks under `error` (never a 500, whatever is down).
 */
@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicators,
    private readonly config: AppConfig,
  ) {}

  @Get('health')
  @Public()
  @HealthCheck()
  @ApiOperation({ summary: 'Database check (kept for existing probes; prefer /health/ready)' })
  @ApiOkResponse({ type: HealthReportDto })
  @ApiServiceUnavailableResponse({ type: HealthReportDto, description: 'the database is down (`error.database`)' })
  check(@Res({ passthrough: true }) res: FastifyReply): Promise<HealthCheckResult> {
    return this.report(res, [this.database]);
  }

  @Get('health/live')
  @Public()
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process is up and serving (no dependency is checked)' })
  @ApiOkResponse({ type: HealthReportDto })
  @ApiProblems(UNEXPECTED)
  live(@Res({ passthrough: true }) res: FastifyReply): Promise<HealthCheckResult> {
    return this.report(res, [() => this.indicators.process()]);
  }

  @Get('health/ready')
  @Public()
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: database, job runner and outbox lag (HEALTH_OUTBOX_MAX_LAG_SECONDS)' })
  @ApiOkResponse({ type: HealthReportDto })
  @ApiServiceUnavailableResponse({ type: HealthReportDto, description: 'a check failed: `error` names it (database, jobs, outbox)' })
  ready(@Res({ passthrough: true }) res: FastifyReply): Promise<HealthCheckResult> {
    return this.report(res, [this.database, () => this.indicators.jobRunner(), () => this.indicators.outboxLag()]);
  }

  @Get('metrics')
  @Public()
  @ApiBearerAuth()
  @Header('Content-Type', register.contentType)
  @ApiOperation({ summary: 'Prometheus metrics: process, HTTP, business and queue (bearer METRICS_TOKEN when set)' })
  @ApiOkResponse({
    description: 'Prometheus text exposition format',
    content: { 'text/plain': { schema: { type: 'string', example: 'orders_total{outcome="completed"} 3' } } },
  })
  @ApiProblems(['UNAUTHENTICATED', 'METRICS_TOKEN is set and the bearer token is missing or wrong'])
  metrics(@Req() req: FastifyRequest): Promise<string> {
    const token = this.config.ops.metricsToken;
    if (token !== undefined) {
      const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      if (!timingSafeEqual(digest(given), digest(token))) throw HealthErrors.metricsTokenRequired();
    }
    return register.metrics();
  }

  private readonly database: HealthIndicatorFunction = () => this.db.pingCheck('database', { timeout: 3000 });

  /** Terminus throws a 503 carrying the report; answer it as such rather than as an error. */
  private async report(res: FastifyReply, checks: HealthIndicatorFunction[]): Promise<HealthCheckResult> {
    try {
      return await this.health.check(checks);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      res.code(503);
      return err.getResponse() as HealthCheckResult;
    }
  }
}
