import { ApiProperty } from '@nestjs/swagger';
import { EXAMPLE_ID, EXAMPLE_TIME, PageOf } from '../../common/api-docs';

export class OrderDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) listingId: string;
  @ApiProperty({ example: 'Red hat' }) listingTitle: string;
  @ApiProperty({ type: 'integer', description: 'what was paid, in the payWith asset', example: 1100 }) price: number;
  @ApiProperty({ enum: ['CREDIT', 'PROMO'], example: 'CREDIT' }) payWith: string;
  @ApiProperty({ enum: ['completed', 'refunded', 'held_for_review', 'rejected', 'cancelled'], example: 'completed' }) status: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) buyerId: string;
  @ApiProperty({ format: 'uuid', description: 'who holds the item (the recipient of a gift)', example: EXAMPLE_ID }) ownerId: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, example: null }) giftToUserId: string | null;
  @ApiProperty({ type: 'integer', example: 0 }) derivationCost: number;
  @ApiProperty({ type: 'integer', example: 100 }) platformFee: number;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null }) refundedAt: string | null;
  @ApiProperty({ type: String, nullable: true, example: null }) refundReason: string | null;
  @ApiProperty({ type: Boolean, nullable: true, example: null }) refundChargedCreator: boolean | null;
}

export const OrderPage = PageOf(OrderDto);

export class AdminOrderLinksDto {
  @ApiProperty({ description: 'POST: refund it', example: `/admin/orders/${EXAMPLE_ID}/refund` }) refund: string;
  @ApiProperty({ description: 'GET: the listing it bought', example: `/listings/${EXAMPLE_ID}` }) listing: string;
  @ApiProperty({ description: "GET: the audit log's entries about it", example: `/admin/audit-log?subjectId=${EXAMPLE_ID}` })
  auditLog: string;
}

export class AdminOrderDto extends OrderDto {
  @ApiProperty({ type: AdminOrderLinksDto }) links: AdminOrderLinksDto;
}

export const AdminOrderPage = PageOf(AdminOrderDto);

export class InventoryItemDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) listingId: string;
  @ApiProperty({ example: 'Red hat' }) title: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) orderId: string;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) acquiredAt: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'set when the item was a gift', example: null })
  giftFromUserId: string | null;
}

export const InventoryPage = PageOf(InventoryItemDto, 'InventoryPage');

export class SaleDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) orderId: string;
  @ApiProperty({ format: 'uuid', description: "the creator's own listing in the sold item's chain", example: EXAMPLE_ID })
  listingId: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) soldListingId: string;
  @ApiProperty({ example: 'Red hat' }) soldListingTitle: string;
  @ApiProperty({ enum: ['seller', 'ancestor'], example: 'seller' }) role: string;
  @ApiProperty({ enum: ['CREDIT', 'PROMO'], example: 'CREDIT' }) payWith: string;
  @ApiProperty({ enum: ['CREDIT', 'DEV_TOKEN'], example: 'CREDIT' }) asset: string;
  @ApiProperty({ type: 'integer', description: "the creator's share", example: 1000 }) amount: number;
  @ApiProperty({ enum: ['pending', 'matured', 'reversed'], example: 'pending' }) state: string;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) soldAt: string;
  @ApiProperty({ format: 'date-time', example: '2025-12-20T10:15:30.000Z' }) maturesAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null }) maturedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null }) reversedAt: string | null;
}

export const SalePage = PageOf(SaleDto);

export class CreditTransferDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ enum: ['completed', 'held_for_review', 'rejected'], example: 'completed' }) status: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) fromUserId: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) toUserId: string;
  @ApiProperty({ type: 'integer', example: 2500 }) amount: number;
  @ApiProperty({ type: String, nullable: true, example: 'happy birthday' }) note: string | null;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) createdAt: string;
}
