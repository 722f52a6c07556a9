import { ApiProperty } from '@nestjs/swagger';
import { EXAMPLE_ID, EXAMPLE_TIME, PageOf } from '../../common/api-docs';
import { FRAUD_ACTIONS, FRAUD_EVENT_TYPES, LABEL_KINDS, LIST_TYPES, RULE_MODES } from '../fraud.types';

const CONDITION = { and: [{ '>': [{ var: 'event.amount' }, 50000] }, { '<': [{ var: 'user.ageDays' }, 7] }] };

/** One version of a rule (ruleView). */
export class RuleDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID, description: 'the rule (every version shares it)' }) id: string;
  @ApiProperty({ type: 'integer', example: 2 }) version: number;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) versionId: string;
  @ApiProperty({ example: 'large-gift-from-young-account' }) name: string;
  @ApiProperty({ example: 'review gifts over 50,000 from accounts younger than 7 days' }) description: string;
  @ApiProperty({ enum: FRAUD_EVENT_TYPES, isArray: true, example: ['credit_transfer'] }) eventTypes: string[];
  @ApiProperty({ type: 'object', additionalProperties: true, example: CONDITION }) condition: Record<string, unknown>;
  @ApiProperty({ enum: FRAUD_ACTIONS, example: 'REVIEW' }) action: string;
  @ApiProperty({ type: 'integer', example: 20 }) score: number;
  @ApiProperty({ enum: RULE_MODES, example: 'ACTIVE' }) mode: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null: a seeded rule', example: EXAMPLE_ID })
  createdBy: string | null;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) createdAt: string;
}

export const RulePage = PageOf(RuleDto);

export class RuleDetailDto extends RuleDto {
  @ApiProperty({ type: [RuleDto], description: 'every version, newest first' }) versions: RuleDto[];
}

export class ListEntryDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ enum: LIST_TYPES, example: 'ip' }) type: string;
  @ApiProperty({ example: '203.0.113.7' }) value: string;
  @ApiProperty({ example: 'card testing' }) reason: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null }) expiresAt: string | null;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) createdBy: string;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) createdAt: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, example: null }) removedBy: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null }) removedAt: string | null;
}

export const ListEntryPage = PageOf(ListEntryDto);

export class LabelDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) userId: string;
  @ApiProperty({ enum: LABEL_KINDS, example: 'confirmed_fraud' }) kind: string;
  @ApiProperty({ example: `admin:${EXAMPLE_ID}` }) reference: string;
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'what it is about (a purchase for a chargeback, a reseller order for a lost dispute)',
    example: null,
  })
  subjectId: string | null;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) occurredAt: string;
  @ApiProperty({ type: 'object', additionalProperties: true, example: {} }) data: Record<string, unknown>;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null: recorded by the system', example: EXAMPLE_ID })
  createdBy: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'the owner confirmed the takeover' }) note: string | null;
}

export const LabelPage = PageOf(LabelDto);

export class MatchedRuleDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) ruleId: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) versionId: string;
  @ApiProperty({ type: 'integer', example: 1 }) version: number;
  @ApiProperty({ example: 'large-gift-from-young-account' }) name: string;
  @ApiProperty({ enum: RULE_MODES, example: 'ACTIVE' }) mode: string;
  @ApiProperty({ enum: FRAUD_ACTIONS, example: 'REVIEW' }) action: string;
  @ApiProperty({ type: 'integer', example: 20 }) score: number;
}

export class DecisionDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ enum: FRAUD_EVENT_TYPES, example: 'credit_transfer' }) eventType: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) userId: string;
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'what was decided (a transfer, an order…)',
    example: EXAMPLE_ID,
  })
  subjectId: string | null;
  @ApiProperty({ enum: FRAUD_ACTIONS, example: 'REVIEW' }) outcome: string;
  @ApiProperty({ type: 'integer', example: 20 }) score: number;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) createdAt: string;
  @ApiProperty({ type: [MatchedRuleDto], description: 'shadow matches included (mode SHADOW)' }) matchedRules: MatchedRuleDto[];
  @ApiProperty({ type: [String], description: 'names of rules whose condition threw', example: [] }) erroredRules: string[];
}

export const DecisionPage = PageOf(DecisionDto);

export class ReadVariableDto {
  @ApiProperty({ example: 'event.amount' }) name: string;
  @ApiProperty({ description: 'the recorded value (any JSON)', nullable: true, example: 60000 }) value: unknown;
  @ApiProperty({ example: 'the amount of the event' }) meaning: string;
}

export class ListLookupDto {
  @ApiProperty({ enum: LIST_TYPES, example: 'ip' }) type: string;
  @ApiProperty({ example: '203.0.113.7' }) value: string;
}

export class RuleExplanationDto {
  @ApiProperty({ type: [ReadVariableDto] }) variables: ReadVariableDto[];
  @ApiProperty({ type: [ListLookupDto] }) listLookups: ListLookupDto[];
}

export class EvaluatedRuleDto extends MatchedRuleDto {
  @ApiProperty({ example: true }) matched: boolean;
  @ApiProperty({ type: String, nullable: true, example: null }) error: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, example: CONDITION }) condition: Record<string, unknown>;
  @ApiProperty({ type: RuleExplanationDto }) explanation: RuleExplanationDto;
}

/** A decision with its feature values and, for every rule version it evaluated, the condition and what it read. */
export class DecisionExplainedDto extends DecisionDto {
  @ApiProperty({ type: 'object', additionalProperties: true, example: { 'event.amount': 60000, 'user.ageDays': 2 } })
  features: Record<string, unknown>;
  @ApiProperty({ type: [EvaluatedRuleDto] }) rules: EvaluatedRuleDto[];
}

export class ReviewDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) decisionId: string;
  @ApiProperty({ enum: FRAUD_EVENT_TYPES, example: 'credit_transfer' }) eventType: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) userId: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, example: EXAMPLE_ID }) subjectId: string | null;
  @ApiProperty({ enum: ['open', 'approved', 'rejected'], example: 'open' }) status: string;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null }) escalatedAt: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, example: null }) decidedBy: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null }) decidedAt: string | null;
  @ApiProperty({ type: String, nullable: true, example: null }) note: string | null;
}

export class ReviewWithDecisionDto extends ReviewDto {
  @ApiProperty({ type: DecisionDto }) decision: DecisionDto;
}

export const ReviewPage = PageOf(ReviewWithDecisionDto, 'ReviewPage');

export class ReviewExplainedDto extends ReviewDto {
  @ApiProperty({ type: DecisionExplainedDto }) decision: DecisionExplainedDto;
}

export class BacktestErrorsDto {
  @ApiProperty({ type: 'integer', example: 0 }) events: number;
  @ApiProperty({ type: String, nullable: true, description: 'the first error message', example: null }) first: string | null;
}

/** The backtest report (the operation's description explains each figure). */
export class BacktestReportDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'the draft rule, echoed' }) rule: Record<string, unknown>;
  @ApiProperty({ type: 'integer', example: 30 }) days: number;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) from: string;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) to: string;
  @ApiProperty({ type: 'integer', example: 120 }) eventsScanned: number;
  @ApiProperty({ type: 'integer', example: 40 }) users: number;
  @ApiProperty({ type: 'integer', example: 3 }) badUsers: number;
  @ApiProperty({ type: 'integer', example: 5 }) matches: number;
  @ApiProperty({ type: 'integer', example: 4 }) matchedUsers: number;
  @ApiProperty({ type: 'integer', example: 2 }) badMatchedUsers: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { chargeback: 1, confirmed_fraud: 1 } })
  badMatchedByLabel: Record<string, number>;
  @ApiProperty({ type: 'number', nullable: true, example: 0.5 }) precision: number | null;
  @ApiProperty({ type: 'number', nullable: true, example: 0.6667 }) recall: number | null;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { ALLOW: 4, REVIEW: 1, BLOCK: 0 } }) matchedOutcomes: Record<
    string,
    unknown
  >;
  @ApiProperty({ type: BacktestErrorsDto }) errors: BacktestErrorsDto;
  @ApiProperty({ type: 'object', additionalProperties: true }) actual: Record<string, unknown>;
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } }) sample: Record<string, unknown>[];
  @ApiProperty({ type: 'integer', example: 5 }) durationMs: number;
}
