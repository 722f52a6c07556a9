import { IsString, IsUUID, MaxLength, MinLength } from 'class-validator';

export class CreateTokenPurchaseDto {
  @IsUUID()
  packageId: string;
}

export class RefundTokenPurchaseDto {
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  reason: string;
}
