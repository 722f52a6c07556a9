import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional } from 'class-validator';
import { PageQuery } from './pagination';

const ISO = { strict: true, strictSeparator: true };

/** The query of an admin list: a page, and the created-at range `from` (inclusive) to `to` (exclusive). */
export class CreatedRangeQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'date-time', description: 'created at or after', example: '2025-11-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601(ISO)
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'created before', example: '2025-12-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601(ISO)
  to?: string;
}
