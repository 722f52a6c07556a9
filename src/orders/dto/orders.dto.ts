import { IsId } from '../../common/validation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import { MAX_AMOUNT } from '../../common/money';

export class CreateOrderDto {
  @ApiProperty()
  @IsId()
  listingId: string;

  @ApiPropertyOptional({ enum: ['CREDIT', 'PROMO'], default: 'CREDIT' })
  @IsOptional()
  @IsIn(['CREDIT', 'PROMO'])
  payWith?: 'CREDIT' | 'PROMO';

  @ApiPropertyOptional({ description: 'buy the item as a gift: it goes to this user' })
  @IsOptional()
  @IsId()
  giftToUserId?: string;
}

export class RefundOrderDto {
  @ApiProperty()
  @IsString()
  @Length(1, 1000)
  reason: string;

  @ApiProperty({ description: "take the creators' shares back (pending first, then matured earnings)" })
  @IsBoolean()
  chargeCreator: boolean;
}

export class CreateCreditTransferDto {
  @ApiProperty()
  @IsId()
  toUserId: string;

  @ApiProperty({ description: 'credits' })
  @IsInt()
  @Min(1)
  @Max(Number(MAX_AMOUNT))
  amount: number;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  note?: string;
}
