import { ApiProperty } from '@nestjs/swagger';

export class BondView {
  @ApiProperty({ type: 'integer', description: 'credits locked in the bond now', example: 50000 }) bond: number;
  @ApiProperty({ type: 'integer', description: 'RESELLER_BOND_CREDITS: what a reseller keeps locked to take orders', example: 50000 })
  required: number;
  @ApiProperty({ type: 'integer', description: 'credits this request moved (into the bond, or back to the wallet)', example: 50000 })
  moved: number;
}

export class BondStatusView {
  @ApiProperty({ type: 'integer', example: 50000 }) bond: number;
  @ApiProperty({ type: 'integer', example: 50000 }) required: number;
  @ApiProperty({ type: String, nullable: true, example: null, description: 'why the bond cannot be released now (null: it can)' })
  releaseRefusal: string | null;
}
