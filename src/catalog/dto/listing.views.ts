import { ApiProperty } from '@nestjs/swagger';
import { EXAMPLE_ID, EXAMPLE_TIME, PageOf } from '../../common/api-docs';
import { LISTING_STATES } from '../listing-state';

/** A listing as anyone sees it (GET /listings, GET /listings/:id): no submission fee, no moderation note. */
export class PublicListingDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) creatorId: string;
  @ApiProperty({ example: 'Red hat' }) title: string;
  @ApiProperty({ example: 'A red hat with a feather' }) description: string;
  @ApiProperty({ example: 'hats' }) category: string;
  @ApiProperty({ enum: LISTING_STATES, example: 'published' }) status: string;
  @ApiProperty({ type: 'integer', description: "the creator's profit per sale", example: 1000 }) profit: number;
  @ApiProperty({ type: 'integer', description: "the ancestors' profits (derivation)", example: 0 }) derivationCost: number;
  @ApiProperty({ type: 'integer', example: 100 }) platformFee: number;
  @ApiProperty({ type: 'integer', description: 'derivationCost + profit + platformFee, in credits', example: 1100 }) price: number;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, example: null }) parentListingId: string | null;
  @ApiProperty({ type: 'string', format: 'uuid', isArray: true, description: 'root first', example: [] }) ancestorIds: string[];
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) createdAt: string;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) updatedAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: EXAMPLE_TIME }) submittedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: EXAMPLE_TIME }) publishedAt: string | null;
}

export class SubmissionFeeDto {
  @ApiProperty({ enum: ['CREDIT', 'DEV_TOKEN'], example: 'CREDIT' }) asset: string;
  @ApiProperty({ type: 'integer', example: 500 }) amount: number;
}

/** A listing as its creator and admins see it. */
export class ListingDto extends PublicListingDto {
  @ApiProperty({ type: SubmissionFeeDto, nullable: true, description: 'charged on submission' }) submissionFee: SubmissionFeeDto | null;
  @ApiProperty({ type: String, nullable: true, description: "the moderator's reason", example: null }) moderationNote: string | null;
}

export class AncestorDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ example: 'Plain hat' }) title: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) creatorId: string;
  @ApiProperty({ type: 'integer', example: 10000 }) profit: number;
  @ApiProperty({ type: 'integer', description: 'what it receives from a CREDIT sale', example: 2222 }) royalty: number;
}

export class PriceBreakdownDto {
  @ApiProperty({ type: 'integer', example: 10000 }) derivationCost: number;
  @ApiProperty({ type: 'integer', example: 100 }) profit: number;
  @ApiProperty({ type: 'integer', example: 1010 }) platformFee: number;
  @ApiProperty({ type: 'integer', example: 11110 }) price: number;
  @ApiProperty({ type: 'integer', description: "the ancestors' share of a CREDIT sale", example: 2222 }) royalties: number;
  @ApiProperty({ type: 'integer', description: "the seller's share of a CREDIT sale", example: 7878 }) sellerShare: number;
}

export class ListingDetailDto extends PublicListingDto {
  @ApiProperty({ type: [AncestorDto], description: 'the derivation chain, root first' }) ancestors: AncestorDto[];
  @ApiProperty({ type: PriceBreakdownDto }) breakdown: PriceBreakdownDto;
}

export class AdminListingLinksDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'GET: its public page (published and delisted listings only)',
    example: `/listings/${EXAMPLE_ID}`,
  })
  listing: string | null;
  @ApiProperty({ description: 'POST (pending_review)', example: `/admin/listings/${EXAMPLE_ID}/approve` }) approve: string;
  @ApiProperty({ description: 'POST (pending_review)', example: `/admin/listings/${EXAMPLE_ID}/reject` }) reject: string;
  @ApiProperty({ description: 'POST (published)', example: `/admin/listings/${EXAMPLE_ID}/delist` }) delist: string;
  @ApiProperty({ description: "GET: the audit log's entries about it", example: `/admin/audit-log?subjectId=${EXAMPLE_ID}` })
  auditLog: string;
}

export const PublicListingPage = PageOf(PublicListingDto);
export const ListingPage = PageOf(ListingDto);

export class AdminListingDto extends ListingDto {
  @ApiProperty({ type: AdminListingLinksDto }) links: AdminListingLinksDto;
}

export const AdminListingPage = PageOf(AdminListingDto);

export class CreatorDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) userId: string;
  @ApiProperty({ type: [String], example: ['buyer', 'creator'] }) roles: string[];
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) creatorSince: string;
}
