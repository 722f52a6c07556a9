import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsDefined, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { IsPlainText } from '../../identity/dto/validators';
import { FRAUD_ACTIONS, FRAUD_EVENT_TYPES, FraudAction, FraudEventType, RULE_MODES, RuleMode } from '../fraud.types';
import { Given, trim } from './fields';

export class CreateRuleDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'large-gift-from-young-account', description: 'unique' })
  @Transform(trim)
  @IsPlainText(1, 100)
  name: string;

  @ApiPropertyOptional({ maxLength: 1000, default: '' })
  @Given()
  @Transform(trim)
  @IsPlainText(0, 1000)
  description?: string;

  @ApiProperty({ enum: FRAUD_EVENT_TYPES, isArray: true })
  @IsIn(FRAUD_EVENT_TYPES, { each: true })
  @ArrayUnique()
  @ArrayMinSize(1)
  @ArrayMaxSize(FRAUD_EVENT_TYPES.length)
  @IsArray()
  eventTypes: FraudEventType[];

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'a JsonLogic expression over the feature catalog (API.md "Fraud rule conditions"), with `in_list`',
    example: { and: [{ '>': [{ var: 'event.amount' }, 50000] }, { '<': [{ var: 'user.ageDays' }, 7] }] },
  })
  @IsDefined()
  condition: unknown;

  @ApiProperty({ enum: FRAUD_ACTIONS })
  @IsIn(FRAUD_ACTIONS)
  action: FraudAction;

  @ApiProperty({
    type: 'integer',
    minimum: -100,
    maximum: 100,
    description: 'added to the decision score when the rule matches',
    example: 20,
  })
  @IsInt()
  @Min(-100)
  @Max(100)
  score: number;

  @ApiProperty({ enum: RULE_MODES, description: 'SHADOW: evaluated and recorded, never enforced' })
  @IsIn(RULE_MODES)
  mode: RuleMode;
}

/** Any subset of a rule's fields; the edit is a new version of the rule. Null is refused like any other bad value. */
export class UpdateRuleDto extends PartialType(CreateRuleDto, { skipNullProperties: false }) {}

export class RulesQuery extends PageQuery {
  @ApiPropertyOptional({ enum: FRAUD_EVENT_TYPES, description: 'rules that apply to this event type' })
  @IsOptional()
  @IsIn(FRAUD_EVENT_TYPES)
  eventType?: FraudEventType;

  @ApiPropertyOptional({ enum: RULE_MODES })
  @IsOptional()
  @IsIn(RULE_MODES)
  mode?: RuleMode;
}
