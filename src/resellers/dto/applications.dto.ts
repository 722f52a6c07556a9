import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsInt, IsISO31661Alpha2, IsOptional, Max, Min } from 'class-validator';
import { MAX_AMOUNT } from '../../common/money';
import { PageQuery } from '../../common/pagination';
import { trim } from '../../fraud/dto/fields';
import { IsPlainText } from '../../identity/dto/validators';
import { ApplicationStatus } from '../vetting/application-state';
import { ResellerStatus } from '../reseller-state';

const upper = ({ value }: { value: unknown }) =>
  Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? v.toUpperCase() : v)) : value;

export const APPLICATION_STATUSES: readonly ApplicationStatus[] = [
  'submitted',
  'awaiting_second_approval',
  'approved',
  'rejected',
  'withdrawn',
];
export const RESELLER_STATUSES: readonly ResellerStatus[] = ['active', 'suspended', 'revoked'];

export class CreateApplicationDto {
  @ApiProperty({ minLength: 1, maxLength: 120, description: 'the name buyers see in the directory' })
  @Transform(trim)
  @IsPlainText(1, 120)
  businessName: string;

  @ApiProperty({ type: [String], minItems: 1, maxItems: 50, example: ['DE', 'PL'], description: 'ISO 3166-1 alpha-2 country codes served' })
  @Transform(upper)
  @IsISO31661Alpha2({ each: true })
  @ArrayUnique()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsArray()
  regions: string[];

  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: 20,
    example: ['bank transfer'],
    description: 'how buyers pay (1-60 characters each)',
  })
  @Transform(({ value }: { value: unknown }) => (Array.isArray(value) ? value.map((v) => trim({ value: v })) : value))
  @IsPlainText(1, 60, { each: true })
  @ArrayUnique()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsArray()
  paymentMethods: string[];

  @ApiProperty({ type: 'integer', description: 'credits the applicant expects to sell a month', minimum: 1 })
  @IsInt()
  @Min(1)
  @Max(Number(MAX_AMOUNT))
  expectedMonthlyVolume: number;

  @ApiProperty({ minLength: 1, maxLength: 500, description: 'how admins and buyers reach the reseller' })
  @Transform(trim)
  @IsPlainText(1, 500)
  contact: string;
}

export class ApplicationsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: APPLICATION_STATUSES, description: 'every status when absent' })
  @IsOptional()
  @IsIn(APPLICATION_STATUSES)
  status?: ApplicationStatus;
}

export class ResellersQuery extends PageQuery {
  @ApiPropertyOptional({ enum: RESELLER_STATUSES, description: 'every status when absent' })
  @IsOptional()
  @IsIn(RESELLER_STATUSES)
  status?: ResellerStatus;
}

/** Every admin decision in the program carries a note, recorded in the audit log with the admin. */
export class DecisionNoteDto {
  @ApiProperty({ minLength: 1, maxLength: 2000 })
  @Transform(trim)
  @IsPlainText(1, 2000)
  note: string;
}
