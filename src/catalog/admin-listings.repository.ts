import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Page } from '../common/pagination';
import { CreatedRangePage, newestFirst, SqlConditions } from '../database/newest-first';
import type { ListingStatus } from './listing-state';
import { LISTING_COLUMNS, ListingRow, ListingView, toListingView } from './listing.rows';

export interface AdminListingFilter extends CreatedRangePage {
  status?: ListingStatus;
  creatorId?: string;
}

/** `listings` as admins look for what to moderate: every state, newest first (listings_by_status, listings_by_creator). */
@Injectable()
export class AdminListingsRepository {
  list(db: DataSource, f: AdminListingFilter): Promise<Page<ListingView>> {
    const where = new SqlConditions().when(f.status, (p) => `status = ${p}`).when(f.creatorId, (p) => `creator_id = ${p}::uuid`);
    return newestFirst<ListingRow, ListingView>(db, `SELECT ${LISTING_COLUMNS} FROM listings`, where, f, toListingView);
  }
}
