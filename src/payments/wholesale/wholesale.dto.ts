import { EXAMPLE_ID, PageOf } from '../../common/api-docs';
import { ApiProperty } from '@nestjs/swagger';
import { IsId } from '../../common/validation';

export class CreateWholesalePurchaseDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID, description: 'a wholesale package (GET /reseller/wholesale-packages)' })
  @IsId()
  packageId: string;
}

/** One wholesale package as a reseller sees it (OpenAPI schema of `wholesalePackageView`). */
export class WholesalePackageDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID })
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ type: 'integer', description: 'the package retail price, in the smallest currency unit' })
  retailPriceCents: number;

  @ApiProperty({ type: 'integer', description: 'what a reseller pays: retailPriceCents less discountPercent, rounded up' })
  priceCents: number;

  @ApiProperty({ example: 'USD' })
  currency: string;

  @ApiProperty({ type: 'integer', description: 'credits minted into reseller_stock when the payment succeeds' })
  credits: number;

  @ApiProperty({ type: 'integer', description: 'RESELLER_WHOLESALE_DISCOUNT_PERCENT' })
  discountPercent: number;
}

export const WholesalePackagePageDto = PageOf(WholesalePackageDto, 'WholesalePackagePageDto');

/** The answer of POST /reseller/wholesale-purchases, as POST /token-purchases answers. */
export class CreatedPurchaseDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID, description: 'the purchase (GET /token-purchases/:id)' })
  id: string;

  @ApiProperty({ enum: ['pending'], description: 'pending until the signed webhook reports the payment' })
  status: string;

  @ApiProperty({ example: 'pi_3N...' })
  paymentIntentId: string;

  @ApiProperty({ description: 'for the client to confirm the PaymentIntent with Stripe.js' })
  clientSecret: string;
}
