import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EXAMPLE_ID, EXAMPLE_TIME, PageOf } from '../../common/api-docs';

const amount = (description: string, example = 0) => ApiProperty({ type: 'integer', description, example });

export class CreditBalancesDto {
  @amount('spendable credits', 4000) wallet: number;
  @amount('matured sale earnings (spendable)', 1000) earnings: number;
  @amount('sale earnings before they mature') earnings_pending: number;
  @amount("resellers' wholesale stock") reseller_stock: number;
  @amount("resellers' locked bond") bond: number;
  @amount('reserved by pending holds (part of the wallet)') held: number;
  @amount('what is owed (clawbacks beyond the balance)') debt: number;
}

export class WalletBalanceDto {
  @amount('spendable', 500) wallet: number;
  @ApiPropertyOptional({ type: 'integer', description: 'reserved by pending holds', example: 0 }) held?: number;
}

export class PromoBalancesDto extends WalletBalanceDto {
  @amount('what is owed (spent bonus PROMO of a reversed payment); later PROMO grants repay it first') debt: number;
}

/** GET /me/balances: posted balance per asset and account, in the smallest unit. */
export class BalancesDto {
  @ApiProperty({ type: CreditBalancesDto }) CREDIT: CreditBalancesDto;
  @ApiProperty({ type: PromoBalancesDto, description: 'promotional credits (bonus of token packages)' }) PROMO: PromoBalancesDto;
  @ApiProperty({ type: WalletBalanceDto, description: 'development tokens' }) DEV_TOKEN: WalletBalanceDto;
}

export class LedgerLineDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) entryId: string;
  @ApiProperty({ example: 'wallet' }) account: string;
  @ApiProperty({ example: 'CREDIT' }) asset: string;
  @amount('signed: negative leaves the account', -1100) amount: number;
  @amount("the account's balance after this posting", 3900) balanceAfter: number;
  @ApiProperty({ example: 'purchase' }) kind: string;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) createdAt: string;
}

export const LedgerLinePage = PageOf(LedgerLineDto);

export class AssetCheckDto {
  @amount('sum of every posting of the asset: 0 when the ledger balances') sum: number;
  @amount('ever minted', 100000) minted: number;
  @amount('ever burned', 2000) burned: number;
  @amount('minted less burned', 98000) supply: number;
}

export class LedgerVerifyDto {
  @ApiProperty({ example: true }) ok: boolean;
  @ApiProperty({ type: 'integer', example: 17 }) entries: number;
  @ApiProperty({ type: 'integer', example: 17 }) sealed: number;
  @ApiProperty({ type: 'integer', example: 0 }) unsealed: number;
  @ApiProperty({ description: 'the hash chain over the sealed entries holds', example: true }) chainOk: boolean;
  @ApiProperty({ type: 'integer', example: 18 }) accounts: number;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/AssetCheckDto' }, description: 'by asset' })
  assets: Record<string, AssetCheckDto>;
  @ApiProperty({ type: [String], example: [] }) problems: string[];
}
