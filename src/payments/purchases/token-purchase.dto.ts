import { IsId } from '../../common/validation';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class CreateTokenPurchaseDto {
  @ApiProperty({ format: 'uuid', description: 'an active public package (GET /token-packages)', example: '0199a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b' })
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
