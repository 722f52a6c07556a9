import { IsId } from '../../common/validation';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class CreateTokenPurchaseDto {
  @IsId()
  packageId: string;
}

export class RefundTokenPurchaseDto {
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  reason: string;
}
