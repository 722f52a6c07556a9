import { EXAMPLE_ID, PageOf } from '../../common/api-docs';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_AMOUNT } from '../../common/money';
import { PageQuery } from '../../common/pagination';
import { IsId } from '../../common/validation';
import { IsPlainText } from '../../identity/dto/validators';
import type { OrderActorRole, ResellerOrderStatus } from '../orders/reseller-order-state';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export const RESELLER_ORDER_STATUSES: readonly ResellerOrderStatus[] = [
  'open_review',
  'open',
  'paid',
  'confirm_review',
  'confirmed',
  'disputed',
  'cancelled',
  'expired',
  'rejected',
  'resolved_buyer',
  'resolved_reseller',
];

export class CreateResellerOrderDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID, description: "the reseller's id (its user id)" })
  @IsId()
  resellerId: string;

  @ApiProperty({ type: 'integer', description: 'credits to buy' })
  @IsInt()
  @Min(1)
  @Max(Number(MAX_AMOUNT))
  amount: number;
}

export class MarkPaidDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 200,
    description: 'how the buyer paid the reseller off-platform (a transfer id, a receipt number)',
  })
  @Transform(trim)
  @IsPlainText(1, 200)
  paymentReference: string;
}

export class CancelResellerOrderDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 1000, description: 'required when the reseller cancels' })
  @IsOptional()
  @Transform(trim)
  @IsPlainText(1, 1000)
  reason?: string;
}

export class DisputeResellerOrderDto {
  @ApiProperty({ minLength: 1, maxLength: 1000 })
  @Transform(trim)
  @IsPlainText(1, 1000)
  reason: string;
}

export class ResolveResellerOrderDto {
  @ApiProperty({ enum: ['buyer', 'reseller'] })
  @IsIn(['buyer', 'reseller'])
  outcome: 'buyer' | 'reseller';

  @ApiProperty({ minLength: 1, maxLength: 1000, description: 'why; recorded in the order history and the audit log' })
  @Transform(trim)
  @IsPlainText(1, 1000)
  note: string;
}

export class ResellerOrdersQuery extends PageQuery {
  @ApiPropertyOptional({ enum: RESELLER_ORDER_STATUSES, description: 'every status when absent' })
  @IsOptional()
  @IsIn(RESELLER_ORDER_STATUSES)
  status?: ResellerOrderStatus;

  @ApiPropertyOptional({ format: 'uuid', example: EXAMPLE_ID })
  @IsOptional()
  @IsId()
  resellerId?: string;
}

export class MyResellerOrdersQuery extends PageQuery {
  @ApiPropertyOptional({ enum: RESELLER_ORDER_STATUSES, description: 'every status when absent' })
  @IsOptional()
  @IsIn(RESELLER_ORDER_STATUSES)
  status?: ResellerOrderStatus;

  @ApiPropertyOptional({ enum: ['buyer', 'reseller'], default: 'buyer', description: 'the orders I opened, or those opened with me' })
  @IsOptional()
  @IsIn(['buyer', 'reseller'])
  as?: 'buyer' | 'reseller';
}

export class OrderEventView {
  @ApiProperty() at: string;
  @ApiProperty({ enum: RESELLER_ORDER_STATUSES, nullable: true }) fromStatus: ResellerOrderStatus | null;
  @ApiProperty({ enum: RESELLER_ORDER_STATUSES }) toStatus: ResellerOrderStatus;
  @ApiProperty({ format: 'uuid', nullable: true }) actorId: string | null;
  @ApiProperty({ enum: ['buyer', 'reseller', 'admin', 'system'] }) actorRole: OrderActorRole;
  @ApiProperty({ nullable: true }) note: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) data: Record<string, unknown>;
}

export class ResellerOrderView {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ enum: RESELLER_ORDER_STATUSES }) status: ResellerOrderStatus;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) resellerId: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) buyerId: string;
  @ApiProperty({ type: 'integer', description: 'credits' }) amount: number;
  @ApiProperty({ nullable: true }) paymentReference: string | null;
  @ApiProperty({ nullable: true }) cancelReason: string | null;
  @ApiProperty({ enum: ['buyer', 'reseller'], nullable: true }) cancelledBy: 'buyer' | 'reseller' | null;
  @ApiProperty({ nullable: true }) disputeReason: string | null;
  @ApiProperty({ enum: ['buyer', 'system'], nullable: true }) disputeOpenedBy: 'buyer' | 'system' | null;
  @ApiProperty({ nullable: true }) resolutionNote: string | null;
  @ApiProperty({ type: 'integer', description: "credits paid to the buyer from the reseller's bond" }) bondPaid: number;
  @ApiProperty({ type: 'integer', description: "what the bond lacked, now the reseller's debt" }) debtAdded: number;
  @ApiProperty() openedAt: string;
  @ApiProperty({ description: 'an open order expires unpaid at this time' }) expiresAt: string;
  @ApiProperty({ nullable: true }) paidAt: string | null;
  @ApiProperty({ nullable: true, description: 'a paid order not confirmed by then becomes a dispute' }) confirmDueAt: string | null;
  @ApiProperty({ nullable: true }) confirmedAt: string | null;
  @ApiProperty({ nullable: true }) disputedAt: string | null;
  @ApiProperty({ nullable: true }) closedAt: string | null;
}

export class ResellerOrderDetailView extends ResellerOrderView {
  @ApiProperty({ type: [OrderEventView] }) history: OrderEventView[];
}

export const ResellerOrderPage = PageOf(ResellerOrderView);
