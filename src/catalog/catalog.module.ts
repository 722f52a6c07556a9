import { Module } from '@nestjs/common';
import { AdminCatalogController } from './admin-catalog.controller';
import { CatalogController } from './catalog.controller';
import { CatalogService } from './catalog.service';
import { CreatorsService } from './creators.service';
import { ListingSearchService } from './listing-search.service';
import { SpendingPolicy } from './spending-policy';

@Module({
  controllers: [CatalogController, AdminCatalogController],
  providers: [CatalogService, CreatorsService, ListingSearchService, SpendingPolicy],
  exports: [CatalogService, SpendingPolicy],
})
export class CatalogModule {}
