import { Module } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module';
import { LedgerModule } from '../ledger/ledger.module';
import { PromoGrantsListener } from './promo-grants.listener';

/** The platform's promotional grants (PROMO bonuses on identity events), paid through the ledger. */
@Module({
  imports: [IdentityModule, LedgerModule],
  providers: [PromoGrantsListener],
})
export class PromotionsModule {}
