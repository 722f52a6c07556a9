import { ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { MAX_AMOUNT } from '../../common/money';
import { PACKAGE_AUDIENCES, PackageAudience } from './token-packages.repository';

const MAX = Number(MAX_AMOUNT);
/** ISO 4217 codes are accepted in either case and kept upper-case (Stripe's lower case is made at its boundary). */
const upper = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toUpperCase() : value);

export class CreateTokenPackageDto {
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name: string;

  /** Smallest currency unit; Stripe's upper bound for a single charge. */
  @IsInt()
  @Min(1)
  @Max(99_999_999)
  priceCents: number;

  @Transform(upper)
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be a three-letter ISO 4217 code' })
  currency: string;

  @IsInt()
  @Min(1)
  @Max(MAX)
  credits: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX)
  bonusPromo?: number;

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

/** Every field of a new package, each optional, with the same validation and transformation. */
export class UpdateTokenPackageDto extends PartialType(CreateTokenPackageDto) {}
