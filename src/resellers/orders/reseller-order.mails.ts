import { amountToJson } from '../../common/money';
import type { Email } from '../../notifications/mail.service';
import type { ResellerOrder } from './reseller-orders.repository';
import type { ResellerOrderStatus } from './reseller-order-state';

const WHAT: Record<ResellerOrderStatus, string> = {
  open_review: 'was opened and is being reviewed before it can be paid',
  open: 'is open: the credits are held in escrow until the reseller confirms the payment',
  paid: 'was marked paid by the buyer',
  confirm_review: 'has a confirmation that is being reviewed; the credits stay in escrow',
  confirmed: "was confirmed by the reseller: the credits are in the buyer's wallet",
  disputed: 'is disputed: an admin will decide it',
  cancelled: 'was cancelled: the credits went back to the reseller',
  expired: 'expired unpaid: the credits went back to the reseller',
  rejected: 'was refused after a review: the credits went back to the reseller',
  resolved_buyer: 'had its dispute resolved in favour of the buyer',
  resolved_reseller: 'had its dispute resolved in favour of the reseller',
};

/** The email each side of a reseller order gets at every step (`data.kind` = reseller_order.<status>). */
export function orderStepMail(to: string, role: 'buyer' | 'reseller', order: ResellerOrder, note: string | null): Email {
  const amount = amountToJson(order.amount);
  const lines = [
    `Your reseller order ${order.id} of ${amount} credits ${WHAT[order.status]}.`,
    ...(note ? [`Note: ${note}`] : []),
    role === 'buyer' && order.status === 'open'
      ? `Pay the reseller, then mark the order paid with your payment reference before ${order.expiresAt.toISOString()}.`
      : '',
  ].filter(Boolean);
  return {
    to,
    subject: `Reseller order ${order.id.slice(0, 8)}: ${order.status.replace(/_/g, ' ')}`,
    text: lines.join('\n\n'),
    data: { kind: `reseller_order.${order.status}`, orderId: order.id, role, status: order.status },
  };
}
