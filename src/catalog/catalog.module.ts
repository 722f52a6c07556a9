import { Module } from '@nestjs/common';
import { AdminCatalogController } from './admin-catalog.controller';
import { CatalogController } from './catalog.controller';
import { CatalogService } from './catalog.service';
import { CreatorsService } from './creators.service';
import { ListingSearchService } from './listing-search.service';

@Module({
  controllers: [CatalogController, AdminCatalogController],
  providers: [CatalogService, CreatorsService, ListingSearchService],
  exports: [CatalogService],
})
export class CatalogModule {}
