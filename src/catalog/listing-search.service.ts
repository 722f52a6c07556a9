import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { amountToJson } from '../common/money';
import { decodeCursor, Page, PageQuery, pageLimit } from '../common/pagination';
import { AppConfig } from '../config/app-config';
import { CatalogErrors } from './catalog.errors';
import { AdminListingsRepository } from './admin-listings.repository';
import { AdminListingsQuery, SearchListingsQuery } from './dto/listing.dto';
import { ListingSearchRepository } from './listing-search.repository';
import { ListingRow, ListingView, PublicListingView, publicListingView, toListingView } from './listing.rows';
import { splitCreditSale } from './pricing';

export interface ListingDetail extends PublicListingView {
  /** The derivation chain, root first, with what each ancestor receives from a CREDIT sale. */
  ancestors: { id: string; title: string; creatorId: string; profit: number; royalty: number }[];
  breakdown: { derivationCost: number; profit: number; platformFee: number; price: number; royalties: number; sellerShare: number };
}

/** Public reads: browse and full-text search of published listings, one listing with its price breakdown. */
@Injectable()
export class ListingSearchService {
  constructor(
    private readonly db: DataSource,
    private readonly listings: ListingSearchRepository,
    private readonly config: AppConfig,
    private readonly adminListings: AdminListingsRepository,
  ) {}

  /** Published listings, newest first, optionally narrowed by category, creator and full-text query `q`. */
  async search(query: SearchListingsQuery): Promise<Page<PublicListingView>> {
    const filter = { category: query.category, creatorId: query.creatorId, after: decodeCursor(query.cursor, 2) };
    const page = await this.listings.search(this.db, filter, query.q?.trim(), pageLimit(query), this.config.catalogSearch);
    return { items: page.items.map(publicListingView), nextCursor: page.nextCursor };
  }

  /** A published (or since delisted) listing with its derivation chain and the split of a CREDIT sale. */
  async detail(id: string): Promise<ListingDetail> {
    const row = await this.listings.findVisible(this.db, id);
    if (!row) throw CatalogErrors.listingNotFound();
    return this.withBreakdown(row);
  }

  /** The caller's own listings in every state, newest first. */
  mine(userId: string, page: PageQuery): Promise<Page<ListingView>> {
    return this.listings.byCreator(this.db, userId, decodeCursor(page.cursor, 2), pageLimit(page));
  }

  /** GET /admin/listings: every state, newest first, each with the routes to act on it. */
  async adminList(q: AdminListingsQuery): Promise<Page<ListingView & { links: Record<string, string | null> }>> {
    const page = await this.adminListings.list(this.db, q);
    return { items: page.items.map((l) => ({ ...l, links: adminListingLinks(l) })), nextCursor: page.nextCursor };
  }

  private async withBreakdown(row: ListingRow): Promise<ListingDetail> {
    const ancestors = await this.listings.chain(this.db, row.ancestor_ids);
    const profits = ancestors.map((a) => BigInt(a.profit));
    const split = splitCreditSale(
      {
        derivationCost: BigInt(row.derivation_cost),
        profit: BigInt(row.profit),
        platformFee: BigInt(row.platform_fee),
        price: BigInt(row.price),
      },
      profits,
      this.config.economy.royaltyCapPercent,
    );
    const view = publicListingView(toListingView(row));
    return {
      ...view,
      ancestors: ancestors.map((a, i) => ({
        id: a.id,
        title: a.title,
        creatorId: a.creator_id,
        profit: amountToJson(a.profit),
        royalty: amountToJson(split.ancestors[i]),
      })),
      breakdown: {
        derivationCost: view.derivationCost,
        profit: view.profit,
        platformFee: view.platformFee,
        price: view.price,
        royalties: amountToJson(split.ancestors.reduce((a, b) => a + b, 0n)),
        sellerShare: amountToJson(split.seller),
      },
    };
  }
}

function adminListingLinks(l: ListingView): Record<string, string | null> {
  const admin = `/admin/listings/${l.id}`;
  return {
    listing: l.status === 'published' || l.status === 'delisted' ? `/listings/${l.id}` : null,
    approve: `${admin}/approve`,
    reject: `${admin}/reject`,
    delist: `${admin}/delist`,
    auditLog: `/admin/audit-log?subjectId=${l.id}`,
  };
}
