import { ApiProperty } from '@nestjs/swagger';
import { EXAMPLE_ID, EXAMPLE_TIME, PageOf } from '../../common/api-docs';
import { PACKAGE_AUDIENCES } from './token-packages.repository';

/** A token package as buyers see it (packageView). */
export class TokenPackageDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ example: 'Starter' }) name: string;
  @ApiProperty({ type: 'integer', description: 'smallest currency unit', example: 499 }) priceCents: number;
  @ApiProperty({ description: 'ISO 4217', example: 'USD' }) currency: string;
  @ApiProperty({ type: 'integer', example: 5000 }) credits: number;
  @ApiProperty({ type: 'integer', description: 'PROMO credits on top', example: 0 }) bonusPromo: number;
}

export const TokenPackagePage = PageOf(TokenPackageDto);

/** A token package as admins manage it (adminPackageView). */
export class AdminTokenPackageDto extends TokenPackageDto {
  @ApiProperty({ enum: PACKAGE_AUDIENCES, example: 'public' }) audience: string;
  @ApiProperty({ example: true }) active: boolean;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) createdAt: string;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) updatedAt: string;
}

export const AdminTokenPackagePage = PageOf(AdminTokenPackageDto);
