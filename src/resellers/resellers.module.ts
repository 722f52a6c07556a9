import { Module } from '@nestjs/common';
import { PaymentsModule } from '../payments/payments.module';
import { ResellersRepository } from './resellers.repository';
import { WholesaleController } from './wholesale.controller';

/** The reseller program (docs/resellers.md): applications and vetting, bonds, wholesale stock, escrowed orders, scorecards. */
@Module({
  imports: [PaymentsModule],
  controllers: [WholesaleController],
  providers: [ResellersRepository],
})
export class ResellersModule {}
