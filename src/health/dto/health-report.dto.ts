import { ApiProperty } from '@nestjs/swagger';

const CHECKS = {
  type: 'object' as const,
  additionalProperties: { type: 'object', properties: { status: { type: 'string', enum: ['up', 'down'] } }, additionalProperties: true },
};

/** The terminus health report. */
export class HealthReportDto {
  @ApiProperty({ enum: ['ok', 'error', 'shutting_down'], example: 'error' })
  status!: string;

  @ApiProperty({ ...CHECKS, description: 'the checks that passed', example: { database: { status: 'up' } } })
  info!: Record<string, unknown>;

  @ApiProperty({
    ...CHECKS,
    description: 'the checks that failed, by name (database, jobs, outbox)',
    example: { outbox: { status: 'down', pending: 12, lagSeconds: 420, maxLagSeconds: 300, message: 'outbox delivery is lagging' } },
  })
  error!: Record<string, unknown>;

  @ApiProperty({ ...CHECKS, description: 'every check', example: { database: { status: 'up' } } })
  details!: Record<string, unknown>;
}
