import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { EXAMPLE_ID, EXAMPLE_TIME, PageOf } from '../common/api-docs';
import { PageQuery } from '../common/pagination';
import { IsId } from '../common/validation';

export class AuditQuery extends PageQuery {
  @ApiPropertyOptional({ maxLength: 100, description: 'e.g. order.refund, user.roles', example: 'order.refund' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  action?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'the entries about this subject (a user, order, listing…)' })
  @IsOptional()
  @IsId()
  subjectId?: string;
}

export class AuditEntryDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) occurredAt: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null: the system', example: EXAMPLE_ID }) actorId:
    string | null;
  @ApiProperty({ example: 'order.refund' }) action: string;
  @ApiProperty({ type: String, nullable: true, example: 'order' }) subjectType: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, example: EXAMPLE_ID }) subjectId: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'customer complaint' }) reason: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { chargeCreator: true } }) data: Record<string, unknown>;
}

export const AuditEntryPage = PageOf(AuditEntryDto);
