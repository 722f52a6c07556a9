import { Module } from '@nestjs/common';
import { AccountGuardModule } from '../account-guard/account-guard.module';
import { CatalogModule } from '../catalog/catalog.module';
import { IdentityModule } from '../identity/identity.module';
import { LedgerModule } from '../ledger/ledger.module';
import { AdminOrdersController } from './admin-orders.controller';
import { CreditTransfersController } from './credit-transfers.controller';
import { CreditTransfersService } from './credit-transfers.service';
import { EarningsService } from './earnings.service';
import { FirstSales } from './first-sales';
import { OrderQueriesService } from './order-queries.service';
import { OrderRefundsService } from './order-refunds.service';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';
import { RecentPurchases } from './recent-purchases';

@Module({
  imports: [CatalogModule, LedgerModule, IdentityModule, AccountGuardModule],
  controllers: [OrdersController, AdminOrdersController, CreditTransfersController],
  providers: [
    OrdersService,
    OrderQueriesService,
    OrderRefundsService,
    EarningsService,
    CreditTransfersService,
    RecentPurchases,
    FirstSales,
  ],
  exports: [OrdersService],
})
export class OrdersModule {}
