import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional } from 'class-validator';
import { HARM_BUDGETS, HarmBudget } from '../harm-budgets.policy';

const ISO = { strict: true, strictSeparator: true };

export class EconomyReportQuery {
  @ApiProperty({ format: 'date-time', description: 'start of the first interval (inclusive)', example: '2026-11-01T00:00:00Z' })
  @IsISO8601(ISO)
  from!: string;

  @ApiProperty({
    format: 'date-time',
    description: 'end of the last interval (exclusive); after `from`, at most ECONOMY_REPORT_MAX_DAYS later',
    example: '2026-12-01T00:00:00Z',
  })
  @IsISO8601(ISO)
  to!: string;

  @ApiPropertyOptional({
    enum: ['day', 'week'],
    default: 'day',
    description: 'intervals of 24 h or 7 days from `from`; the last ends at `to`',
  })
  @IsOptional()
  @IsIn(['day', 'week'])
  interval?: 'day' | 'week';

  @ApiPropertyOptional({ format: 'date-time', description: 'supply at this instant (default: now, checked against the ledger balances)' })
  @IsOptional()
  @IsISO8601(ISO)
  at?: string;
}

class CountAmountView {
  @ApiProperty({ type: 'integer' }) count!: number;
  @ApiProperty({ type: 'integer', description: 'credits' }) amount!: number;
}

/** A harm figure: how many, how much (credits), and the rate over its base (null: no base in the interval). */
export class BucketView extends CountAmountView {
  @ApiProperty({ type: Number, nullable: true }) rate!: number | null;
}

export class CentsView {
  @ApiProperty({ example: 'USD' }) currency!: string;
  @ApiProperty({ type: 'integer' }) count!: number;
  @ApiProperty({ type: 'integer' }) cents!: number;
}

class GmvAssetView {
  @ApiProperty({ type: 'integer' }) orders!: number;
  @ApiProperty({ type: 'integer' }) amount!: number;
}

class GmvView {
  @ApiProperty() CREDIT!: GmvAssetView;
  @ApiProperty() PROMO!: GmvAssetView;
}

class MoneyInView {
  @ApiProperty({ type: [CentsView], description: 'token packages paid (settled, not refused by the fraud rules), per currency' })
  tokenPackages!: CentsView[];
  @ApiProperty({ type: [CentsView], description: 'wholesale packages paid by resellers, per currency' })
  wholesale!: CentsView[];
}

class EarningsView {
  @ApiProperty({ type: 'integer', description: 'CREDIT sale shares created' }) accrued!: number;
  @ApiProperty({ type: 'integer', description: 'CREDIT sale shares matured into earnings' }) matured!: number;
}

class MoneyView {
  @ApiProperty() gmv!: GmvView;
  @ApiProperty() moneyIn!: MoneyInView;
  @ApiProperty({ type: 'integer', description: 'markup of CREDIT sales less the markup of CREDIT refunds' }) platformRevenue!: number;
  @ApiProperty() creatorEarnings!: EarningsView;
  @ApiProperty({ type: CountAmountView, description: 'completed credit transfers' }) creditsGifted!: CountAmountView;
}

class OrderRefundsView extends BucketView {
  @ApiProperty({ type: 'integer', description: 'PROMO prices refunded (amount: CREDIT)' }) promoAmount!: number;
}

class PaymentRefundsView {
  @ApiProperty({ type: 'integer' }) count!: number;
  @ApiProperty({ type: [CentsView] }) amounts!: CentsView[];
  @ApiProperty({ type: Number, nullable: true, description: 'over settled payments' }) rate!: number | null;
}

class ChargebacksView {
  @ApiProperty({ type: 'integer' }) count!: number;
  @ApiProperty({ type: [CentsView] }) amounts!: CentsView[];
  @ApiProperty({ type: 'integer' }) settledPayments!: number;
  @ApiProperty({ type: Number, nullable: true }) rate!: number | null;
  @ApiProperty({ type: 'integer', description: 'disputes closed lost' }) lost!: number;
  @ApiProperty() aboveVisaRate!: boolean;
  @ApiProperty() aboveMastercardRate!: boolean;
}

class DebtView {
  @ApiProperty({ type: 'integer' }) created!: number;
  @ApiProperty({ type: 'integer' }) repaid!: number;
  @ApiProperty({ type: 'integer', description: 'owed at the end of the interval' }) outstanding!: number;
}

class ReviewsView {
  @ApiProperty({ type: 'integer' }) opened!: number;
  @ApiProperty({ type: 'integer' }) approved!: number;
  @ApiProperty({ type: 'integer' }) rejected!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'approved / decided: the false-positive estimate' }) approvedShare!:
    number | null;
}

class FraudView {
  @ApiProperty({ type: 'integer' }) decisions!: number;
  @ApiProperty({ description: 'rate over decisions' }) blocks!: BucketView;
  @ApiProperty() reviews!: ReviewsView;
}

export class TakeoverView {
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ format: 'date-time' }) labelledAt!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) firstSuspiciousAt!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'first freeze or hold after it' }) containedAt!:
    string | null;
  @ApiProperty({ type: 'integer', nullable: true }) secondsToContain!: number | null;
}

class TakeoversView {
  @ApiProperty({ type: 'integer' }) count!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'median of secondsToContain (a half second when even)' })
  medianSecondsToContain!: number | null;
  @ApiProperty({ type: [TakeoverView] }) items!: TakeoverView[];
}

class CountView {
  @ApiProperty({ type: 'integer' }) count!: number;
}

class ResellerHarmView {
  @ApiProperty({ type: 'integer' }) opened!: number;
  @ApiProperty({ description: 'rate over orders opened' }) disputed!: BucketView;
  @ApiProperty({ description: 'resolved to the buyer; rate over orders opened' }) lost!: BucketView;
  @ApiProperty({ type: CountAmountView }) paidFromBonds!: CountAmountView;
}

class HarmView {
  @ApiProperty() orderRefunds!: OrderRefundsView;
  @ApiProperty() paymentRefunds!: PaymentRefundsView;
  @ApiProperty() chargebacks!: ChargebacksView;
  @ApiProperty() clawbackDebt!: DebtView;
  @ApiProperty() fraud!: FraudView;
  @ApiProperty() takeovers!: TakeoversView;
  @ApiProperty({ type: CountView }) ownerFreezes!: CountView;
  @ApiProperty() resellerOrders!: ResellerHarmView;
  @ApiProperty({ description: 'rate over earnings accrued' }) earningsReversed!: BucketView;
}

class OrbitsView {
  @ApiProperty({ type: 'integer' }) one!: number;
  @ApiProperty({ type: 'integer' }) twoToFour!: number;
  @ApiProperty({ type: 'integer' }) fivePlus!: number;
}

class NewBuyersView {
  @ApiProperty({ type: 'integer' }) count!: number;
  @ApiProperty({ type: 'integer' }) secondPurchaseWithin30Days!: number;
  @ApiProperty({ type: Number, nullable: true }) share!: number | null;
}

class GiftsView {
  @ApiProperty({ type: 'integer' }) count!: number;
  @ApiProperty({ type: 'integer' }) answered!: number;
  @ApiProperty({ type: Number, nullable: true }) reciprocity!: number | null;
}

class PatternsView {
  @ApiProperty({ type: 'integer' }) sales!: number;
  @ApiProperty({ type: 'integer' }) returningBuyerSales!: number;
  @ApiProperty({ type: Number, nullable: true }) returningBuyerShare!: number | null;
  @ApiProperty({ description: 'buyer-creator pairs by sales in the interval' }) orbits!: OrbitsView;
  @ApiProperty() newBuyers!: NewBuyersView;
  @ApiProperty() gifts!: GiftsView;
}

export class IntervalView {
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
  @ApiProperty() money!: MoneyView;
  @ApiProperty() harm!: HarmView;
  @ApiProperty() patterns!: PatternsView;
}

class AssetSupplyView {
  @ApiProperty({ type: 'integer' }) minted!: number;
  @ApiProperty({ type: 'integer' }) burned!: number;
  @ApiProperty({ type: 'integer' }) outstanding!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { wallet: 1000, earnings_pending: 100, debt: -50 } })
  byAccount!: Record<string, number>;
}

class SupplyAssetsView {
  @ApiProperty() CREDIT!: AssetSupplyView;
  @ApiProperty() PROMO!: AssetSupplyView;
  @ApiProperty() DEV_TOKEN!: AssetSupplyView;
}

export class SupplyView {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ description: 'what the supply was checked against' }) checked!: string;
  @ApiProperty() assets!: SupplyAssetsView;
}

export class BreachView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: HARM_BUDGETS }) budget!: HarmBudget;
  @ApiProperty({ enum: ['open', 'cleared'] }) status!: 'open' | 'cleared';
  @ApiProperty({ type: 'integer' }) thresholdBp!: number;
  @ApiProperty({ type: 'integer' }) windowDays!: number;
  @ApiProperty({ type: 'integer' }) numerator!: number;
  @ApiProperty({ type: 'integer' }) denominator!: number;
  @ApiProperty() rate!: number;
  @ApiProperty({ format: 'date-time' }) openedAt!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) clearedAt!: string | null;
}

class HarmBudgetsView {
  @ApiProperty({ type: [BreachView], description: 'breaches still open' }) breaches!: BreachView[];
}

class ReferenceLinesView {
  @ApiProperty({ example: 0.009 }) visaRate!: number;
  @ApiProperty({ type: 'integer', example: 100 }) visaDisputesPerMonth!: number;
  @ApiProperty({ example: 0.015 }) mastercardRate!: number;
}

export class EconomyReportView {
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
  @ApiProperty({ enum: ['day', 'week'] }) interval!: 'day' | 'week';
  @ApiProperty({ format: 'date-time' }) generatedAt!: string;
  @ApiProperty() referenceLines!: ReferenceLinesView;
  @ApiProperty({ type: [IntervalView] }) intervals!: IntervalView[];
  @ApiProperty() total!: IntervalView;
  @ApiProperty() supply!: SupplyView;
  @ApiProperty() harmBudgets!: HarmBudgetsView;
}
