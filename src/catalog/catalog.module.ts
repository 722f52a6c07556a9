import { AdminListingsRepository } from './admin-listings.repository';
import { Module } from '@nestjs/common';
import { AccountGuardModule } from '../account-guard/account-guard.module';
import { AuditModule } from '../audit/audit.module';
import { IdentityModule } from '../identity/identity.module';
import { LedgerModule } from '../ledger/ledger.module';
import { AdminCatalogController } from './admin-catalog.controller';
import { CatalogController } from './catalog.controller';
import { CatalogService } from './catalog.service';
import { CreatorsRepository } from './creators.repository';
import { CreatorsService } from './creators.service';
import { DerivationPolicy } from './derivation.policy';
import { ListingSearchRepository } from './listing-search.repository';
import { ListingSearchService } from './listing-search.service';
import { ListingsRepository } from './listings.repository';
import { SubmissionFeePolicy } from './submission-fee.policy';

@Module({
  imports: [LedgerModule, IdentityModule, AccountGuardModule, AuditModule],
  controllers: [CatalogController, AdminCatalogController],
  providers: [
    CatalogService,
    CreatorsService,
    ListingSearchService,
    ListingsRepository,
    ListingSearchRepository,
    AdminListingsRepository,
    CreatorsRepository,
    DerivationPolicy,
    SubmissionFeePolicy,
  ],
  exports: [CatalogService],
})
export class CatalogModule {}
