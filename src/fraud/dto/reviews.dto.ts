import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional } from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { IsId } from '../../common/validation';
import { IsPlainText } from '../../identity/dto/validators';
import { FRAUD_EVENT_TYPES, FraudEventType } from '../fraud.types';
import { ReviewStatus } from '../review-state';
import { trim } from './fields';

const REVIEW_STATUSES: readonly ReviewStatus[] = ['open', 'approved', 'rejected'];

export class ReviewsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: REVIEW_STATUSES, description: 'every status when absent' })
  @IsOptional()
  @IsIn(REVIEW_STATUSES)
  status?: ReviewStatus;

  @ApiPropertyOptional({ enum: FRAUD_EVENT_TYPES })
  @IsOptional()
  @IsIn(FRAUD_EVENT_TYPES)
  eventType?: FraudEventType;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsId()
  userId?: string;
}

export class DecideReviewDto {
  @ApiProperty({ minLength: 1, maxLength: 2000, description: 'why; recorded in the audit log with the admin' })
  @Transform(trim)
  @IsPlainText(1, 2000)
  note: string;
}
