import { IsId } from '../../common/validation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import { MAX_AMOUNT } from '../../common/money';
import { CreatedRangeQuery } from '../../common/admin-lists';
import { ORDER_STATUSES, OrderStatus } from '../order-state';

export class CreateOrderDto {
  @ApiProperty({ format: 'uuid', description: 'a published listing', example: '0199a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b' })
  @IsId()
  listingId: string;

  @ApiPropertyOptional({ enum: ['CREDIT', 'PROMO'], default: 'CREDIT' })
  @IsOptional()
  @IsIn(['CREDIT', 'PROMO'])
  payWith?: 'CREDIT' | 'PROMO';

  @ApiPropertyOptional({ format: 'uuid', description: 'buy the item as a gift: it goes to this user' })
  @IsOptional()
  @IsId()
  giftToUserId?: string;
}

export class RefundOrderDto {
  @ApiProperty({ minLength: 1, maxLength: 1000, example: 'customer complaint' })
  @IsString()
  @Length(1, 1000)
  reason: string;

  @ApiProperty({ description: "take the creators' shares back (pending first, then matured earnings)", example: true })
  @IsBoolean()
  chargeCreator: boolean;
}

export class CreateCreditTransferDto {
  @ApiProperty({ format: 'uuid', example: '0199a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b' })
  @IsId()
  toUserId: string;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'credits', example: 2500 })
  @IsInt()
  @Min(1)
  @Max(Number(MAX_AMOUNT))
  amount: number;

  @ApiPropertyOptional({ maxLength: 500, example: 'happy birthday' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  note?: string;
}

export class AdminOrdersQuery extends CreatedRangeQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'the buyer' })
  @IsOptional()
  @IsId()
  userId?: string;

  @ApiPropertyOptional({ enum: ORDER_STATUSES, example: 'held_for_review' })
  @IsOptional()
  @IsIn(ORDER_STATUSES)
  status?: OrderStatus;
}
