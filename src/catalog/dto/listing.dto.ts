import { IsId } from '../../common/validation';
import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { CreatedRangeQuery } from '../../common/admin-lists';
import { PageQuery } from '../../common/pagination';
import { LISTING_STATES, ListingStatus } from '../listing-state';

export const CATEGORY_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const CATEGORY_MESSAGE = 'must be 1-40 lowercase letters, digits, - or _';
/** A trillion credits (a billion dollars): far beyond any real item, far inside a safe integer. */
export const MAX_PROFIT = 1_000_000_000_000;

/** The validation of a listing's fields, shared by a new listing and an edit (which cannot change the parent); each DTO describes them in OpenAPI. */
class ListingFields {
  @IsString()
  @Length(1, 200)
  title: string;

  @IsString()
  @MaxLength(5000)
  description: string;

  @IsString()
  @Matches(CATEGORY_PATTERN, { message: `category ${CATEGORY_MESSAGE}` })
  category: string;

  @IsInt()
  @Min(0)
  @Max(MAX_PROFIT)
  profit: number;

  @IsOptional()
  @IsId()
  parentListingId?: string;
}

export class CreateListingDto extends ListingFields {
  @ApiProperty({ maxLength: 200, example: 'Red hat' })
  declare title: string;

  @ApiProperty({ maxLength: 5000, example: 'A red hat with a feather' })
  declare description: string;

  @ApiProperty({ example: 'hair' })
  declare category: string;

  @ApiProperty({ type: 'integer', minimum: 0, description: "the creator's own profit per sale, in credits", example: 1000 })
  declare profit: number;

  @ApiPropertyOptional({ format: 'uuid', description: 'a published listing this item derives from' })
  declare parentListingId?: string;
}

/** Each field may be left out, never null (a listing has no empty title, description, category or profit). */
export class UpdateListingDto extends PartialType(OmitType(ListingFields, ['parentListingId'] as const), { skipNullProperties: false }) {
  @ApiPropertyOptional({ maxLength: 200, example: 'Red hat, large' })
  declare title?: string;

  @ApiPropertyOptional()
  declare description?: string;

  @ApiPropertyOptional()
  declare category?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, example: 1200 })
  declare profit?: number;
}

export class SubmitListingDto {
  @ApiPropertyOptional({ enum: ['CREDIT', 'DEV_TOKEN'], default: 'CREDIT' })
  @IsOptional()
  @IsIn(['CREDIT', 'DEV_TOKEN'])
  payWith?: 'CREDIT' | 'DEV_TOKEN';
}

export class ApproveListingDto {
  @ApiPropertyOptional({ maxLength: 1000, example: 'fits the guidelines' })
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  reason?: string;
}

export class ModerationReasonDto {
  @ApiProperty({ maxLength: 1000, description: "recorded as the listing's moderation note", example: 'copies a trademark' })
  @IsString()
  @Length(1, 1000)
  reason: string;
}

export class SearchListingsQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'full-text search on title and description' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(CATEGORY_PATTERN, { message: `category ${CATEGORY_MESSAGE}` })
  category?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsId()
  creatorId?: string;
}

/** GET /admin/listings: every state; `status=pending_review` is the moderation queue. */
export class AdminListingsQuery extends CreatedRangeQuery {
  @ApiPropertyOptional({ enum: LISTING_STATES, example: 'pending_review' })
  @IsOptional()
  @IsIn(LISTING_STATES)
  status?: ListingStatus;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsId()
  creatorId?: string;
}
