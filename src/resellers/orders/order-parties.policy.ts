import { ResellersErrors } from '../resellers.errors';
import type { OrderActor } from './reseller-order-steps.service';
import type { ResellerOrder } from './reseller-orders.repository';

/** Which side of the order the caller is on (404 for someone who is neither: an order's existence is not disclosed). */
export function partyOf(order: ResellerOrder, userId: string): 'buyer' | 'reseller' {
  if (order.buyerId === userId) return 'buyer';
  if (order.resellerId === userId) return 'reseller';
  throw ResellersErrors.orderNotFound();
}

/** Only `party` may take `action` on the order (403 WRONG_PARTY for the other side); answers the caller as the step's actor. */
export function assertParty(order: ResellerOrder, userId: string, party: 'buyer' | 'reseller', action: string): OrderActor {
  if (partyOf(order, userId) !== party) throw ResellersErrors.wrongParty(action, party);
  return { id: userId, role: party };
}
