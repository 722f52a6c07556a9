import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
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
  imports: [CatalogModule],
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
