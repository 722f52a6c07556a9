import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import type { ListingStatus } from './listing-state';
import { LISTING_COLUMNS, ListingRow } from './listing.rows';
import type { SubmissionFee } from './submission-fee.policy';

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

interface ListingForSaleRow extends ListingRow {
  ancestors: { id: string; creator_id: string; profit: string }[];
}

const toListingForSale = (row: ListingForSaleRow): ListingForSale => ({
  id: row.id,
  creatorId: row.creator_id,
  title: row.title,
  status: row.status,
  profit: BigInt(row.profit),
  derivationCost: BigInt(row.derivation_cost),
  platformFee: BigInt(row.platform_fee),
  price: BigInt(row.price),
  ancestors: row.ancestors.map((a) => ({ listingId: a.id, creatorId: a.creator_id, profit: BigInt(a.profit) })),
});

/** A listing's priced terms (see pricing.ts). */
export interface ListingTerms {
  profit: bigint;
  platformFee: bigint;
  price: bigint;
}

export interface NewListing extends ListingTerms {
  creatorId: string;
  title: string;
  description: string;
  category: string;
  parentListingId: string | null;
  ancestorIds: string[];
  derivationCost: bigint;
}

export interface ListingEdit extends ListingTerms {
  title: string;
  description: string;
  category: string;
}

/** `listings`, as the creators' and moderators' use cases and the orders module write and read them. */
@Injectable()
export class ListingsRepository {
  async insert(em: EntityManager, l: NewListing, now: Date): Promise<ListingRow> {
    const [row] = await queryRows<ListingRow>(
      em,
      `INSERT INTO listings (creator_id, title, description, category, profit, parent_listing_id, ancestor_ids,
         derivation_cost, platform_fee, price, status, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::uuid[], $8, $9, $10, 'draft', $11, $11)
       RETURNING ${LISTING_COLUMNS}`,
      [
        l.creatorId,
        l.title,
        l.description,
        l.category,
        l.profit.toString(),
        l.parentListingId,
        l.ancestorIds,
        l.derivationCost.toString(),
        l.platformFee.toString(),
        l.price.toString(),
        now,
      ],
    );
    return row;
  }

  async update(em: EntityManager, id: string, e: ListingEdit, now: Date): Promise<ListingRow> {
    const [row] = await queryRows<ListingRow>(
      em,
      `UPDATE listings SET title = $2, description = $3, category = $4, profit = $5, platform_fee = $6, price = $7, updated_at = $8
       WHERE id = $1 RETURNING ${LISTING_COLUMNS}`,
      [id, e.title, e.description, e.category, e.profit.toString(), e.platformFee.toString(), e.price.toString(), now],
    );
    return row;
  }

  async markSubmitted(em: EntityManager, id: string, status: ListingStatus, fee: SubmissionFee, now: Date): Promise<ListingRow> {
    const [row] = await queryRows<ListingRow>(
      em,
      `UPDATE listings SET status = $2, submitted_at = $3, updated_at = $3, submission_fee_asset = $4, submission_fee = $5
       WHERE id = $1 RETURNING ${LISTING_COLUMNS}`,
      [id, status, now, fee.asset, fee.amount.toString()],
    );
    return row;
  }

  /** Sets a moderator's decision: `published_at` when published, `closed_at` when rejected or delisted. */
  async markModerated(em: EntityManager, id: string, status: ListingStatus, note: string | null, now: Date): Promise<ListingRow> {
    const [row] = await queryRows<ListingRow>(
      em,
      `UPDATE listings SET status = $2, moderation_note = $3, updated_at = $4,
         published_at = CASE WHEN $2 = 'published' THEN $4 ELSE published_at END,
         closed_at = CASE WHEN $2 IN ('rejected', 'delisted') THEN $4 ELSE closed_at END
       WHERE id = $1 RETURNING ${LISTING_COLUMNS}`,
      [id, status, note, now],
    );
    return row;
  }

  /** Reads a listing and locks its row until `em`'s transaction ends. */
  async lock(em: EntityManager, id: string): Promise<ListingRow | undefined> {
    const [row] = await queryRows<ListingRow>(em, `SELECT ${LISTING_COLUMNS} FROM listings WHERE id = $1 FOR UPDATE`, [id]);
    return row;
  }

  /** A would-be parent, share-locked (it cannot change status until `em`'s transaction ends). */
  async lockParent(em: EntityManager, id: string): Promise<{ status: ListingStatus; ancestorIds: string[] } | undefined> {
    const [row] = await queryRows<{ status: ListingStatus; ancestor_ids: string[] }>(
      em,
      'SELECT status, ancestor_ids::text[] AS ancestor_ids FROM listings WHERE id = $1 FOR SHARE',
      [id],
    );
    return row && { status: row.status, ancestorIds: row.ancestor_ids };
  }

  /** The profits of the listings that exist among `ids`. */
  async profitsOf(em: EntityManager, ids: string[]): Promise<Map<string, bigint>> {
    const rows = await queryRows<{ id: string; profit: string }>(em, 'SELECT id, profit FROM listings WHERE id = ANY ($1::uuid[])', [ids]);
    return new Map(rows.map((r) => [r.id, BigInt(r.profit)]));
  }

  /** Sale terms of several listings in one statement; those that do not exist are missing from the map. */
  async forSale(em: EntityManager, ids: string[]): Promise<Map<string, ListingForSale>> {
    const rows = await queryRows<ListingForSaleRow>(
      em,
      `SELECT ${LISTING_COLUMNS},
         (SELECT coalesce(json_agg(json_build_object('id', a.id, 'creator_id', a.creator_id, 'profit', a.profit::text)
                   ORDER BY array_position(l.ancestor_ids, a.id)), '[]')
            FROM listings a WHERE a.id = ANY (l.ancestor_ids)) AS ancestors
       FROM listings l WHERE l.id = ANY ($1::uuid[])`,
      [ids],
      { prepare: true },
    );
    return new Map(rows.map((row) => [row.id, toListingForSale(row)]));
  }
}
