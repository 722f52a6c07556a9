import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { IsId } from '../../common/validation';
import { FRAUD_ACTIONS, FRAUD_EVENT_TYPES, FraudAction, FraudEventType } from '../fraud.types';

export class DecisionsQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsId()
  userId?: string;

  @ApiPropertyOptional({ enum: FRAUD_EVENT_TYPES })
  @IsOptional()
  @IsIn(FRAUD_EVENT_TYPES)
  eventType?: FraudEventType;

  @ApiPropertyOptional({ enum: FRAUD_ACTIONS })
  @IsOptional()
  @IsIn(FRAUD_ACTIONS)
  outcome?: FraudAction;

  @ApiPropertyOptional({ format: 'uuid', description: 'decisions this rule (any version) matched, shadow matches included' })
  @IsOptional()
  @IsId()
  ruleId?: string;
}
