import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { HealthIndicators } from './health-indicators.service';
import { QueueMetrics } from './queue-metrics.service';

@Module({ imports: [TerminusModule], controllers: [HealthController], providers: [HealthIndicators, QueueMetrics] })
export class HealthModule {}
