import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { MAX_AMOUNT } from '../../common/money';
import { PACKAGE_AUDIENCES, PackageAudience } from './token-packages.repository';

const MAX = Number(MAX_AMOUNT);
/** ISO 4217 codes are accepted in either case and kept upper-case (Stripe's lower case is made at its boundary). */
const upper = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toUpperCase() : value);

export class CreateTokenPackageDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'Starter' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name: string;

  /** Smallest currency unit; Stripe's upper bound for a single charge. */
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 99_999_999, description: 'smallest currency unit', example: 499 })
  @IsInt()
  @Min(1)
  @Max(99_999_999)
  priceCents: number;

  @ApiProperty({ description: 'ISO 4217, either case (kept upper-case)', example: 'USD' })
  @Transform(upper)
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be a three-letter ISO 4217 code' })
  currency: string;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'credits minted into the wallet when the payment succeeds', example: 5000 })
  @IsInt()
  @Min(1)
  @Max(MAX)
  credits: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, default: 0, description: 'PROMO credits on top (public packages only)', example: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX)
  bonusPromo?: number;

  @ApiPropertyOptional({ default: true, description: 'on sale', example: true })
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  /**
   * `reseller`: a wholesale package, listed and sold to resellers only (GET /reseller/wholesale-packages),
   * at the retail `priceCents` less the wholesale discount, into reseller stock; never with bonus PROMO.
   */
  @ApiPropertyOptional({ enum: PACKAGE_AUDIENCES, default: 'public' })
  @IsOptional()
  @IsIn(PACKAGE_AUDIENCES)
  audience?: PackageAudience;
}

/** Every field of a new package, each optional (left out, never null), with the same validation and transformation. */
export class UpdateTokenPackageDto extends PartialType(CreateTokenPackageDto, { skipNullProperties: false }) {}
