import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { SpendingPolicy } from '../account-guard/spending.policy';
import { businessEvent } from '../common/business-events';
import { Clock } from '../common/clock.service';
import { IdempotencyService, IdempotentReplay, IdempotentRequest } from '../common/idempotency/idempotency.service';
import { AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { LedgerService, systemAccount } from '../ledger/ledger.service';
import { CatalogErrors } from './catalog.errors';
import { CreatorsService } from './creators.service';
import { DerivationPolicy } from './derivation.policy';
import { CreateListingDto, UpdateListingDto } from './dto/listing.dto';
import { ListingAction, listingMachine } from './listing-state';
import { ListingRow, ListingView, toListingView } from './listing.rows';
import { ListingForSale, ListingsRepository } from './listings.repository';
import { priceOf } from './pricing';
import { SubmissionAsset, SubmissionFeePolicy } from './submission-fee.policy';

export type { ListingForSale } from './listings.repository';

export type ModerationAction = Extract<ListingAction, 'approve' | 'reject' | 'delist'>;

/** Creators' listings: creation and derivation, edits, submission (with its fee) and moderation. */
@Injectable()
export class CatalogService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly ledger: LedgerService,
    private readonly listings: ListingsRepository,
    private readonly creators: CreatorsService,
    private readonly derivation: DerivationPolicy,
    private readonly submissionFees: SubmissionFeePolicy,
    private readonly spending: SpendingPolicy,
    private readonly idempotency: IdempotencyService,
  ) {}

  async create(userId: string, dto: CreateListingDto): Promise<ListingView> {
    return this.tx.run(async (em) => {
      await this.creators.ensureRecord(em, userId);
      const chain = dto.parentListingId ? await this.chainThrough(em, dto.parentListingId) : { ids: [], profits: [] };
      const p = priceOf(BigInt(dto.profit), chain.profits, this.config.economy.platformMarkupPercent);
      const row = await this.listings.insert(
        em,
        {
          creatorId: userId,
          title: dto.title,
          description: dto.description,
          category: dto.category,
          parentListingId: dto.parentListingId ?? null,
          ancestorIds: chain.ids,
          ...p,
        },
        this.clock.now(),
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
      const updated = await this.listings.update(
        em,
        id,
        {
          title: dto.title ?? row.title,
          description: dto.description ?? row.description,
          category: dto.category ?? row.category,
          profit: p.profit,
          platformFee: p.platformFee,
          price: p.price,
        },
        this.clock.now(),
      );
      return toListingView(updated);
    });
  }

  /** Sends a draft to review; the submission fee is burned in the same transaction. */
  /**
   * Charges the submission fee and moves the draft to review, in the transaction that claims the
   * request's key. The fee's ledger reference is per listing, not per key: a listing is submitted once.
   */
  async submit(userId: string, id: string, payWith: SubmissionAsset, request: IdempotentRequest): Promise<ListingView | IdempotentReplay> {
    await this.spending.assertMaySpend(userId);
    return this.idempotency.run(request, async (em) => {
      const row = await this.lockOwn(em, userId, id);
      const next = listingMachine.next(row.status, 'submit');
      const fee = this.submissionFees.feeFor(payWith);
      if (fee.amount > 0n) {
        const debit = await this.ledger.debitInOrder(em, { userId, asset: fee.asset, from: [...fee.from], amount: fee.amount });
        await this.ledger.post(em, {
          kind: 'fee',
          reference: `listing_submission:${id}`,
          postings: [...debit.postings, { account: systemAccount('burn', fee.asset), amount: fee.amount }],
          metadata: { listingId: id, fee: 'listing_submission' },
        });
      }
      return toListingView(await this.listings.markSubmitted(em, id, next, fee, this.clock.now()));
    });
  }

  async moderate(adminId: string, id: string, action: ModerationAction, reason: string | undefined): Promise<ListingView> {
    return this.tx.run(async (em) => {
      const row = await this.lock(em, id);
      const next = listingMachine.next(row.status, action);
      const updated = await this.listings.markModerated(em, id, next, reason ?? null, this.clock.now());
      await this.audit.record(em, {
        actorId: adminId,
        action: `listing.${action}`,
        subjectType: 'listing',
        subjectId: id,
        reason,
        data: { from: row.status, to: next, creatorId: row.creator_id },
      });
      businessEvent(em, `listing.${action}`, { listingId: id, adminId, creatorId: row.creator_id, from: row.status, to: next });
      return toListingView(updated);
    });
  }

  /** Reads a listing's sale terms in the caller's transaction (the price fields of a published listing never change). */
  async forSale(em: EntityManager, listingId: string): Promise<ListingForSale> {
    const listing = (await this.forSaleMany(em, [listingId])).get(listingId);
    if (!listing) throw CatalogErrors.listingNotFound();
    return listing;
  }

  /** `forSale` for several listings in one statement; those that do not exist are missing from the map. */
  forSaleMany(em: EntityManager, listingIds: string[]): Promise<Map<string, ListingForSale>> {
    return this.listings.forSale(em, listingIds);
  }

  /** The ancestors a child of `parentId` inherits (root first, the parent last), with their profits. */
  private async chainThrough(em: EntityManager, parentId: string): Promise<{ ids: string[]; profits: bigint[] }> {
    const parent = await this.listings.lockParent(em, parentId);
    if (!parent) throw CatalogErrors.parentNotFound();
    const ids = [...parent.ancestorIds, parentId];
    this.derivation.assertMayDeriveFrom(parent, ids);
    const profitOf = await this.listings.profitsOf(em, ids);
    return { ids, profits: ids.map((i) => profitOf.get(i) ?? 0n) };
  }

  private async lock(em: EntityManager, id: string): Promise<ListingRow> {
    const row = await this.listings.lock(em, id);
    if (!row) throw CatalogErrors.listingNotFound();
    return row;
  }

  /** Only a listing's creator may edit or submit it. */
  private async lockOwn(em: EntityManager, userId: string, id: string): Promise<ListingRow> {
    const row = await this.lock(em, id);
    if (row.creator_id !== userId) throw CatalogErrors.notTheCreator();
    return row;
  }
}
