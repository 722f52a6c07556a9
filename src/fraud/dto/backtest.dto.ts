import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { FRAUD_ACTIONS, FRAUD_EVENT_TYPES, FraudAction, FraudEventType } from '../fraud.types';

export const BACKTEST_MAX_DAYS = 365;

/** A draft rule: what a rule would be, never stored. Its condition is checked against the feature catalog. */
export class BacktestRuleDto {
  @ApiProperty({ enum: FRAUD_EVENT_TYPES, isArray: true })
  @IsIn(FRAUD_EVENT_TYPES, { each: true })
  @ArrayUnique()
  @ArrayMaxSize(FRAUD_EVENT_TYPES.length)
  @ArrayNotEmpty()
  @IsArray()
  eventTypes: FraudEventType[];

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'JsonLogic over the feature catalog (API.md "Fraud rule conditions")',
    example: { and: [{ '>': [{ var: 'event.amount' }, 50000] }, { '<': [{ var: 'user.ageDays' }, 7] }] },
  })
  @IsObject()
  condition: Record<string, unknown>;

  @ApiPropertyOptional({ enum: FRAUD_ACTIONS, description: 'echoed in the report; the figures do not depend on it' })
  @IsOptional()
  @IsIn(FRAUD_ACTIONS)
  action?: FraudAction;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: -100,
    maximum: 100,
    description: 'echoed in the report; the figures do not depend on it',
  })
  @IsOptional()
  @IsInt()
  @Min(-100)
  @Max(100)
  score?: number;
}

export class BacktestDto {
  @ApiProperty({ type: BacktestRuleDto })
  @ValidateNested()
  @Type(() => BacktestRuleDto)
  @IsObject()
  rule: BacktestRuleDto;

  @ApiProperty({
    type: 'integer',
    example: 30,
    minimum: 1,
    maximum: BACKTEST_MAX_DAYS,
    description: 'replay the events of the last `days` days',
  })
  @IsInt()
  @Min(1)
  @Max(BACKTEST_MAX_DAYS)
  days: number;
}
