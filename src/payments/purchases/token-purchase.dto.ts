import { IsId } from '../../common/validation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { CreatedRangeQuery } from '../../common/admin-lists';
import { PURCHASE_STATUSES, PurchaseStatus } from './purchase-state';

export class CreateTokenPurchaseDto {
  @ApiProperty({
    format: 'uuid',
    description: 'an active public package (GET /token-packages)',
    example: '0199a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b',
  })
  @IsId()
  packageId: string;
}

export class RefundTokenPurchaseDto {
  @ApiProperty({ minLength: 1, maxLength: 500, description: 'recorded in the audit log', example: 'customer request' })
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  reason: string;
}

export class AdminTokenPurchasesQuery extends CreatedRangeQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'the buyer' })
  @IsOptional()
  @IsId()
  userId?: string;

  @ApiPropertyOptional({ enum: PURCHASE_STATUSES, example: 'disputed' })
  @IsOptional()
  @IsIn(PURCHASE_STATUSES)
  status?: PurchaseStatus;
}
