import { amountToJson } from '../common/money';
import type { OrderStatus } from './order-state';
import type { PayWith } from './sale-plan';

export interface OrderRow {
  id: string;
  buyer_id: string;
  owner_id: string;
  listing_id: string;
  listing_title: string;
  seller_id: string;
  pay_with: PayWith;
  price: string;
  derivation_cost: string;
  profit: string;
  platform_fee: string;
  paid_from: Record<string, string>;
  status: OrderStatus;
  created_at: Date;
  refunded_at: Date | null;
  refund_reason: string | null;
  refund_charged_creator: boolean | null;
  /** The ledger holds reserving the buyer's funds while the order is held for review. */
  review_hold_ids: string[];
  idempotency_key: string;
}

export const ORDER_COLUMNS = `id, buyer_id, owner_id, listing_id, listing_title, seller_id, pay_with, price, derivation_cost, profit,
  platform_fee, paid_from, status, created_at, refunded_at, refund_reason, refund_charged_creator, review_hold_ids, idempotency_key`;

export interface OrderView {
  id: string;
  listingId: string;
  listingTitle: string;
  price: number;
  payWith: PayWith;
  status: OrderStatus;
  buyerId: string;
  ownerId: string;
  giftToUserId: string | null;
  derivationCost: number;
  platformFee: number;
  createdAt: string;
  refundedAt: string | null;
  refundReason: string | null;
  refundChargedCreator: boolean | null;
}

export function toOrderView(r: OrderRow): OrderView {
  return {
    id: r.id,
    listingId: r.listing_id,
    listingTitle: r.listing_title,
    price: amountToJson(r.price),
    payWith: r.pay_with,
    status: r.status,
    buyerId: r.buyer_id,
    ownerId: r.owner_id,
    giftToUserId: r.owner_id === r.buyer_id ? null : r.owner_id,
    derivationCost: amountToJson(r.derivation_cost),
    platformFee: amountToJson(r.platform_fee),
    createdAt: r.created_at.toISOString(),
    refundedAt: r.refunded_at?.toISOString() ?? null,
    refundReason: r.refund_reason,
    refundChargedCreator: r.refund_charged_creator,
  };
}

export interface InventoryItem {
  id: string;
  listingId: string;
  title: string;
  orderId: string;
  acquiredAt: string;
  /** Set when the item was a gift. */
  giftFromUserId: string | null;
}

export interface InventoryRow {
  id: string;
  /** The list's order (internal). */
  seq: string;
  owner_id: string;
  listing_id: string;
  listing_title: string;
  order_id: string;
  acquired_at: Date;
  buyer_id: string;
}

export function toInventoryItem(r: InventoryRow): InventoryItem {
  return {
    id: r.id,
    listingId: r.listing_id,
    title: r.listing_title,
    orderId: r.order_id,
    acquiredAt: r.acquired_at.toISOString(),
    giftFromUserId: r.buyer_id === r.owner_id ? null : r.buyer_id,
  };
}
