import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth.decorators';
import { IdempotentReplay, IdempotentRequest } from '../../common/idempotency/idempotency.service';
import { amountToJson } from '../../common/money';
import { Page, PageQuery } from '../../common/pagination';
import { AppConfig } from '../../config/app-config';
import type { TokenPackage } from '../packages/token-packages.repository';
import { TokenPackagesService } from '../packages/token-packages.service';
import { PaymentsErrors } from '../payments.errors';
import { termsOf } from '../purchases/purchase-terms';
import { CreatedPurchase, TokenPurchasesService } from '../purchases/token-purchases.service';
import type { PurchaseClient } from '../screening/purchase-screening.service';
import type { WholesalePackageDto } from './wholesale.dto';

export type { PurchaseClient } from '../screening/purchase-screening.service';
export type { CreatedPurchase } from '../purchases/token-purchases.service';

/**
 * Wholesale for the resellers module: reseller packages, bought through Stripe exactly like token
 * packages (TokenPurchasesService.buy: the same PaymentIntent, webhook, exactly-once mint, refunds,
 * disputes and fraud reviews), at the wholesale price, into the buyer's `reseller_stock`, without
 * bonus PROMO; the request is decided by the fraud rules as `wholesale_purchase`.
 */
@Injectable()
export class WholesalePurchasesService {
  constructor(
    private readonly catalog: TokenPackagesService,
    private readonly purchases: TokenPurchasesService,
    private readonly config: AppConfig,
  ) {}

  /** The active reseller packages, cheapest (retail) first, with what a reseller pays for each. */
  async packages(q: PageQuery): Promise<Page<WholesalePackageDto>> {
    const page = await this.catalog.list(q, { activeOnly: true, audience: 'reseller' });
    return { items: page.items.map((p) => this.view(p)), nextCursor: page.nextCursor };
  }

  /**
   * Buys a reseller package into the user's reseller stock; answers what POST /token-purchases
   * answers (and replays it for a repeated Idempotency-Key). Only a user holding the `reseller` role.
   */
  purchase(
    user: AuthUser,
    packageId: string,
    client: PurchaseClient,
    request: IdempotentRequest,
  ): Promise<CreatedPurchase | IdempotentReplay> {
    if (!user.roles.includes('reseller')) throw PaymentsErrors.resellersOnly();
    return this.purchases.buy(user, packageId, 'reseller_stock', client, request);
  }

  private view(p: TokenPackage): WholesalePackageDto {
    const discountPercent = this.config.resellers.wholesaleDiscountPercent;
    const terms = termsOf(p, 'reseller_stock', discountPercent);
    return {
      id: p.id,
      name: p.name,
      retailPriceCents: amountToJson(p.priceCents),
      priceCents: amountToJson(terms.priceCents),
      currency: p.currency,
      credits: amountToJson(p.credits),
      discountPercent,
    };
  }
}
