import { amountToJson } from '../common/money';
import type { ListingStatus } from './listing-state';

/** A `listings` row as selected with LISTING_COLUMNS (by both listing repositories). */
export interface ListingRow {
  id: string;
  creator_id: string;
  title: string;
  description: string;
  category: string;
  profit: string;
  parent_listing_id: string | null;
  ancestor_ids: string[];
  derivation_cost: string;
  platform_fee: string;
  price: string;
  status: ListingStatus;
  submission_fee_asset: 'CREDIT' | 'DEV_TOKEN' | null;
  submission_fee: string | null;
  moderation_note: string | null;
  created_at: Date;
  updated_at: Date;
  submitted_at: Date | null;
  published_at: Date | null;
  /** published_at at full precision, for cursors */
  published_key: string | null;
}

export const LISTING_COLUMNS = `id, creator_id, title, description, category, profit, parent_listing_id,
  ancestor_ids::text[] AS ancestor_ids, derivation_cost, platform_fee, price, status, submission_fee_asset,
  submission_fee, moderation_note, created_at, updated_at, submitted_at, published_at, published_at::text AS published_key`;

export interface ListingView {
  id: string;
  creatorId: string;
  title: string;
  description: string;
  category: string;
  status: ListingStatus;
  profit: number;
  derivationCost: number;
  platformFee: number;
  price: number;
  parentListingId: string | null;
  ancestorIds: string[];
  submissionFee: { asset: 'CREDIT' | 'DEV_TOKEN'; amount: number } | null;
  moderationNote: string | null;
  createdAt: string;
  updatedAt: string;
  submittedAt: string | null;
  publishedAt: string | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toListingView(r: ListingRow): ListingView {
  return {
    id: r.id,
    creatorId: r.creator_id,
    title: r.title,
    description: r.description,
    category: r.category,
    status: r.status,
    profit: amountToJson(r.profit),
    derivationCost: amountToJson(r.derivation_cost),
    platformFee: amountToJson(r.platform_fee),
    price: amountToJson(r.price),
    parentListingId: r.parent_listing_id,
    ancestorIds: r.ancestor_ids,
    submissionFee: r.submission_fee_asset ? { asset: r.submission_fee_asset, amount: amountToJson(r.submission_fee ?? 0) } : null,
    moderationNote: r.moderation_note,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    submittedAt: iso(r.submitted_at),
    publishedAt: iso(r.published_at),
  };
}

export type PublicListingView = Omit<ListingView, 'submissionFee' | 'moderationNote'>;

/** What anyone may see of a listing: the submission fee and the moderation note are its creator's and the admins'. */
export function publicListingView(v: ListingView): PublicListingView {
  const { submissionFee: _fee, moderationNote: _note, ...rest } = v;
  return rest;
}
