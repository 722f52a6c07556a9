import { ApiProperty } from '@nestjs/swagger';

export class BondView {
  @ApiProperty({ description: 'credits locked in the bond now' }) bond: number;
  @ApiProperty({ description: 'RESELLER_BOND_CREDITS: what a reseller keeps locked to take orders' }) required: number;
  @ApiProperty({ description: 'credits this request moved (into the bond, or back to the wallet)' }) moved: number;
}

export class BondStatusView {
  @ApiProperty() bond: number;
  @ApiProperty() required: number;
  @ApiProperty({ nullable: true, description: 'why the bond cannot be released now (null: it can)' }) releaseRefusal: string | null;
}
