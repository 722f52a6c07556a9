import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock.service';
import { AppError, notFound } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { queryRows } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { LedgerService, systemAccount } from '../ledger/ledger.service';
import { CreatorsService } from './creators.service';
import { CreateListingDto, UpdateListingDto } from './dto/listing.dto';
import { LISTING_COLUMNS, ListingRow, ListingView, toListingView } from './listing.mapper';
import { priceOf } from './pricing';
import { SpendingPolicy } from '../account-guard/spending.policy';
import { ListingAction, listingMachine } from './listing-state';

export type ModerationAction = Extract<ListingAction, 'approve' | 'reject' | 'delist'>;

/** A listing's sale terms, as the orders module needs them inside its transaction. */
export interface ListingForSale {
  id: string;
  creatorId: string;
  title: string;
  status: ListingRow['status'];
  profit: bigint;
  derivationCost: bigint;
  platformFee: bigint;
  price: bigint;
  /** Root first, the parent last. */
  ancestors: { listingId: string; creatorId: string; profit: bigint }[];
}

/** Creators' listings: creation and derivation, edits, submission (with its fee) and moderation. */
@Injectable()
export class CatalogService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly ledger: LedgerService,
    private readonly creators: CreatorsService,
    private readonly spending: SpendingPolicy,
  ) {}

  async create(userId: string, dto: CreateListingDto): Promise<ListingView> {
    return this.tx.run(async (em) => {
      await this.creators.ensureRecord(em, userId);
      const chain = dto.parentListingId ? await this.chainThrough(em, dto.parentListingId) : { ids: [], profits: [] };
      const p = priceOf(BigInt(dto.profit), chain.profits, this.config.economy.platformMarkupPercent);
      const now = this.clock.now();
      const [row] = await queryRows<ListingRow>(
        em,
        `INSERT INTO listings (creator_id, title, description, category, profit, parent_listing_id, ancestor_ids,
           derivation_cost, platform_fee, price, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::uuid[], $8, $9, $10, 'draft', $11, $11)
         RETURNING ${LISTING_COLUMNS}`,
        [
          userId,
          dto.title,
          dto.description,
          dto.category,
          p.profit.toString(),
          dto.parentListingId ?? null,
          chain.ids,
          p.derivationCost.toString(),
          p.platformFee.toString(),
          p.price.toString(),
          now,
        ],
      );
      return toListingView(row);
    });
  }

  async update(userId: string, id: string, dto: UpdateListingDto): Promise<ListingView> {
    return this.tx.run(async (em) => {
      const row = await this.lockOwn(em, userId, id);
      listingMachine.next(row.status, 'edit');
      const profit = dto.profit === undefined ? BigInt(row.profit) : BigInt(dto.profit);
      const p = priceOf(profit, [BigInt(row.derivation_cost)], this.config.economy.platformMarkupPercent);
      const [updated] = await queryRows<ListingRow>(
        em,
        `UPDATE listings SET title = $2, description = $3, category = $4, profit = $5, platform_fee = $6, price = $7, updated_at = $8
         WHERE id = $1 RETURNING ${LISTING_COLUMNS}`,
        [
          id,
          dto.title ?? row.title,
          dto.description ?? row.description,
          dto.category ?? row.category,
          p.profit.toString(),
          p.platformFee.toString(),
          p.price.toString(),
          this.clock.now(),
        ],
      );
      return toListingView(updated);
    });
  }

  /** Sends a draft to review; the submission fee is burned in the same transaction. */
  async submit(userId: string, id: string, payWith: 'CREDIT' | 'DEV_TOKEN'): Promise<ListingView> {
    await this.spending.assertMaySpend(userId);
    return this.tx.run(async (em) => {
      const row = await this.lockOwn(em, userId, id);
      const next = listingMachine.next(row.status, 'submit');
      const fee = BigInt(payWith === 'CREDIT' ? this.config.economy.submissionFeeCredits : this.config.economy.submissionFeeDevTokens);
      if (fee > 0n) {
        const from = payWith === 'CREDIT' ? (['wallet', 'earnings'] as const) : (['wallet'] as const);
        const debit = await this.ledger.debitInOrder(em, { userId, asset: payWith, from: [...from], amount: fee });
        await this.ledger.post(em, {
          kind: 'fee',
          reference: `listing_submission:${id}`,
          postings: [...debit.postings, { account: systemAccount('burn', payWith), amount: fee }],
          metadata: { listingId: id, fee: 'listing_submission' },
        });
      }
      const [updated] = await queryRows<ListingRow>(
        em,
        `UPDATE listings SET status = $2, submitted_at = $3, updated_at = $3, submission_fee_asset = $4, submission_fee = $5
         WHERE id = $1 RETURNING ${LISTING_COLUMNS}`,
        [id, next, this.clock.now(), payWith, fee.toString()],
      );
      return toListingView(updated);
    });
  }

  async moderate(adminId: string, id: string, action: ModerationAction, reason: string | undefined): Promise<ListingView> {
    return this.tx.run(async (em) => {
      const row = await this.lock(em, id);
      const next = listingMachine.next(row.status, action);
      const now = this.clock.now();
      const [updated] = await queryRows<ListingRow>(
        em,
        `UPDATE listings SET status = $2, moderation_note = $3, updated_at = $4,
           published_at = CASE WHEN $2 = 'published' THEN $4 ELSE published_at END,
           closed_at = CASE WHEN $2 IN ('rejected', 'delisted') THEN $4 ELSE closed_at END
         WHERE id = $1 RETURNING ${LISTING_COLUMNS}`,
        [id, next, reason ?? null, now],
      );
      await this.audit.record(em, {
        actorId: adminId,
        action: `listing.${action}`,
        subjectType: 'listing',
        subjectId: id,
        reason,
        data: { from: row.status, to: next, creatorId: row.creator_id },
      });
      return toListingView(updated);
    });
  }

  /** Reads a listing's sale terms in the caller's transaction (the price fields of a published listing never change). */
  async forSale(em: EntityManager, listingId: string): Promise<ListingForSale> {
    const listing = (await this.forSaleMany(em, [listingId])).get(listingId);
    if (!listing) throw notFound('Listing');
    return listing;
  }

  /** `forSale` for several listings in one statement; those that do not exist are missing from the map. */
  async forSaleMany(em: EntityManager, listingIds: string[]): Promise<Map<string, ListingForSale>> {
    const rows = await queryRows<ListingRow & { ancestors: { id: string; creator_id: string; profit: string }[] }>(
      em,
      `SELECT ${LISTING_COLUMNS},
         (SELECT coalesce(json_agg(json_build_object('id', a.id, 'creator_id', a.creator_id, 'profit', a.profit::text)
                   ORDER BY array_position(l.ancestor_ids, a.id)), '[]')
            FROM listings a WHERE a.id = ANY (l.ancestor_ids)) AS ancestors
       FROM listings l WHERE l.id = ANY ($1::uuid[])`,
      [listingIds],
      { prepare: true },
    );
    return new Map(
      rows.map((row) => [
        row.id,
        {
          id: row.id,
          creatorId: row.creator_id,
          title: row.title,
          status: row.status,
          profit: BigInt(row.profit),
          derivationCost: BigInt(row.derivation_cost),
          platformFee: BigInt(row.platform_fee),
          price: BigInt(row.price),
          ancestors: row.ancestors.map((a) => ({ listingId: a.id, creatorId: a.creator_id, profit: BigInt(a.profit) })),
        },
      ]),
    );
  }

  /** The ancestors a child of `parentId` inherits (root first, the parent last), with their profits. */
  private async chainThrough(em: EntityManager, parentId: string): Promise<{ ids: string[]; profits: bigint[] }> {
    const [parent] = await queryRows<{ status: string; ancestor_ids: string[] }>(
      em,
      'SELECT status, ancestor_ids::text[] AS ancestor_ids FROM listings WHERE id = $1 FOR SHARE',
      [parentId],
    );
    if (!parent) throw notFound('Parent listing');
    if (parent.status !== 'published') {
      throw new AppError('INVALID_STATE', 'Items can only be derived from a published listing', { status: parent.status });
    }
    const ids = [...parent.ancestor_ids, parentId];
    if (ids.length > this.config.economy.maxDerivationDepth) {
      const message = `derivation chains are at most ${this.config.economy.maxDerivationDepth} ancestors long`;
      throw new AppError('VALIDATION_FAILED', message, {}, [{ field: 'parentListingId', message }]);
    }
    const rows = await queryRows<{ id: string; profit: string }>(em, 'SELECT id, profit FROM listings WHERE id = ANY ($1::uuid[])', [ids]);
    const profitOf = new Map(rows.map((r) => [r.id, BigInt(r.profit)]));
    return { ids, profits: ids.map((i) => profitOf.get(i) ?? 0n) };
  }

  private async lock(em: EntityManager, id: string): Promise<ListingRow> {
    const [row] = await queryRows<ListingRow>(em, `SELECT ${LISTING_COLUMNS} FROM listings WHERE id = $1 FOR UPDATE`, [id]);
    if (!row) throw notFound('Listing');
    return row;
  }

  private async lockOwn(em: EntityManager, userId: string, id: string): Promise<ListingRow> {
    const row = await this.lock(em, id);
    if (row.creator_id !== userId) throw new AppError('FORBIDDEN', 'Only the listing creator can do this');
    return row;
  }
}
