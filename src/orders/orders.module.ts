import { AdminOrdersRepository } from './admin-orders.repository';
import { Module } from '@nestjs/common';
import { AccountGuardModule } from '../account-guard/account-guard.module';
import { CatalogModule } from '../catalog/catalog.module';
import { FraudModule } from '../fraud/fraud.module';
import { IdentityModule } from '../identity/identity.module';
import { LedgerModule } from '../ledger/ledger.module';
import { AdminOrdersController } from './admin-orders.controller';
import { CreditTransfersController } from './credit-transfers.controller';
import { CreditTransfersRepository } from './credit-transfers.repository';
import { CreditTransfersService } from './credit-transfers.service';
import { EarningsMaturityPolicy } from './earnings-maturity.policy';
import { EarningsRepository } from './earnings.repository';
import { EarningsService } from './earnings.service';
import { FirstSalesService } from './first-sales.service';
import { GiftPolicy } from './gift.policy';
import { OrderQueriesService } from './order-queries.service';
import { OrderRefundsService } from './order-refunds.service';
import { OrderReviewsService } from './order-reviews.service';
import { OrdersController } from './orders.controller';
import { OrdersRepository } from './orders.repository';
import { OrdersService } from './orders.service';
import { SaleSettlement } from './sale-settlement.service';

@Module({
  imports: [CatalogModule, LedgerModule, IdentityModule, AccountGuardModule, FraudModule],
  controllers: [OrdersController, AdminOrdersController, CreditTransfersController],
  providers: [
    OrdersService,
    OrderQueriesService,
    OrderRefundsService,
    OrderReviewsService,
    SaleSettlement,
    EarningsService,
    CreditTransfersService,
    EarningsMaturityPolicy,
    GiftPolicy,
    FirstSalesService,
    OrdersRepository,
    AdminOrdersRepository,
    EarningsRepository,
    CreditTransfersRepository,
  ],
  exports: [OrdersService],
})
export class OrdersModule {}
