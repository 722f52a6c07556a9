import { IsId } from '../../common/validation';
import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { PageQuery } from '../../common/pagination';

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
  @ApiProperty({ maxLength: 200 })
  declare title: string;

  @ApiProperty({ maxLength: 5000 })
  declare description: string;

  @ApiProperty({ example: 'hair' })
  declare category: string;

  @ApiProperty({ description: "the creator's own profit per sale, in credits" })
  declare profit: number;

  @ApiPropertyOptional({ description: 'a published listing this item derives from' })
  declare parentListingId?: string;
}

export class UpdateListingDto extends PartialType(OmitType(ListingFields, ['parentListingId'] as const)) {
  @ApiPropertyOptional()
  declare title?: string;

  @ApiPropertyOptional()
  declare description?: string;

  @ApiPropertyOptional()
  declare category?: string;

  @ApiPropertyOptional()
  declare profit?: number;
}

export class SubmitListingDto {
  @ApiPropertyOptional({ enum: ['CREDIT', 'DEV_TOKEN'], default: 'CREDIT' })
  @IsOptional()
  @IsIn(['CREDIT', 'DEV_TOKEN'])
  payWith?: 'CREDIT' | 'DEV_TOKEN';
}

export class ApproveListingDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  reason?: string;
}

export class ModerationReasonDto {
  @ApiProperty()
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

  @ApiPropertyOptional()
  @IsOptional()
  @IsId()
  creatorId?: string;
}
