import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EXAMPLE_ID, EXAMPLE_TIME, PageOf } from '../../common/api-docs';
import { PURCHASE_STATUSES } from './purchase-state';

export class PurchaseDisputeDto {
  @ApiProperty({ example: 'dp_be52a1440884dec752b6d1c1' }) id: string;
  @ApiProperty({ enum: ['open', 'won', 'lost'], example: 'open' }) status: string;
}

export class PurchaseFailureDto {
  @ApiProperty({ type: String, nullable: true, example: 'card_declined' }) code: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Your card was declined.' }) message: string | null;
}

export class PurchaseCardDto {
  @ApiProperty({ type: String, nullable: true, example: 'Xt5EWLLDS7FJjR1c' }) fingerprint: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'NL' }) country: string | null;
}

/** A token (or wholesale) purchase (purchaseView); admins also see the payment's risk facts. */
export class PurchaseDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) userId: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) packageId: string;
  @ApiProperty({ enum: ['wallet', 'reseller_stock'], example: 'wallet' }) destination: string;
  @ApiProperty({ enum: PURCHASE_STATUSES, example: 'succeeded' }) status: string;
  @ApiProperty({ type: 'integer', description: 'what was charged, in cents', example: 999 }) priceCents: number;
  @ApiProperty({ type: 'integer', nullable: true, description: 'wholesale: the retail price', example: null })
  retailPriceCents: number | null;
  @ApiProperty({ example: 'USD' }) currency: string;
  @ApiProperty({ type: 'integer', example: 10000 }) credits: number;
  @ApiProperty({ type: 'integer', example: 1000 }) bonusPromo: number;
  @ApiProperty({ type: String, nullable: true, example: 'pi_3N5xYz2eZvKYlo2C0abc1234' }) paymentIntentId: string | null;
  @ApiProperty({ type: 'integer', example: 0 }) refundedCents: number;
  @ApiProperty({ type: 'integer', description: 'credits minted and still granted', example: 10000 }) creditsGranted: number;
  @ApiProperty({ type: 'integer', example: 1000 }) promoGranted: number;
  @ApiProperty({ type: PurchaseDisputeDto, nullable: true }) dispute: PurchaseDisputeDto | null;
  @ApiProperty({ type: PurchaseFailureDto, nullable: true }) failure: PurchaseFailureDto | null;
  @ApiProperty({ description: 'what it minted is held while a fraud review is open', example: false }) heldForReview: boolean;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) createdAt: string;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) updatedAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: EXAMPLE_TIME }) paidAt: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'admins only', example: 'ch_3N5xYz2eZvKYlo2C0abc1234' })
  chargeId?: string | null;
  @ApiPropertyOptional({ type: PurchaseCardDto, description: 'admins only' }) card?: PurchaseCardDto;
  @ApiPropertyOptional({ type: 'integer', nullable: true, description: "admins only: Stripe's risk score (0-100)", example: 12 })
  riskScore?: number | null;
  @ApiPropertyOptional({ type: String, enum: ['blocked', 'rejected'], nullable: true, description: 'admins only', example: null })
  fraudRefusal?: string | null;
}

export class AdminPurchaseLinksDto {
  @ApiProperty({ description: 'GET: the purchase', example: `/token-purchases/${EXAMPLE_ID}` }) purchase: string;
  @ApiProperty({ description: 'POST: refund it (succeeded purchases)', example: `/admin/token-purchases/${EXAMPLE_ID}/refund` })
  refund: string;
  @ApiProperty({ description: "GET: the audit log's entries about it", example: `/admin/audit-log?subjectId=${EXAMPLE_ID}` })
  auditLog: string;
}

export class AdminPurchaseDto extends PurchaseDto {
  @ApiProperty({ type: AdminPurchaseLinksDto }) links: AdminPurchaseLinksDto;
}

export const AdminPurchasePage = PageOf(AdminPurchaseDto, 'AdminTokenPurchasePage');
