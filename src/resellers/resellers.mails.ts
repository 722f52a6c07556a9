import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { amountToJson } from '../common/money';
import { IdentityService } from '../identity/identity.service';
import { Email, MailService } from '../notifications/mail.service';
import type { ResellerOrderStatus } from './orders/reseller-order-state';
import type { ResellerOrder } from './orders/reseller-orders.repository';

/** What the program tells an applicant or reseller; `kind` is `data.kind` of the message (dev mailbox, tests). */
export type ResellerMailKind =
  | 'reseller.application_submitted'
  | 'reseller.application_first_approved'
  | 'reseller.application_approved'
  | 'reseller.application_rejected'
  | 'reseller.application_withdrawn'
  | 'reseller.suspended'
  | 'reseller.reinstated'
  | 'reseller.revoked'
  | 'reseller.renewed';

const TEXT: Record<ResellerMailKind, { subject: string; text: string }> = {
  'reseller.application_submitted': {
    subject: 'We received your reseller application',
    text: 'Your application to become a Bazaar reseller is in. Two admins review every application; we will write when it is decided.',
  },
  'reseller.application_first_approved': {
    subject: 'Your reseller application passed its first review',
    text: 'One admin approved your reseller application. A second admin reviews it before it is decided.',
  },
  'reseller.application_approved': {
    subject: 'You are a Bazaar reseller',
    text: 'Your reseller application is approved. Your first weeks are a probation with lower order limits, and the program vets every reseller again periodically.',
  },
  'reseller.application_rejected': {
    subject: 'Your reseller application was not approved',
    text: 'Your application to become a Bazaar reseller was not approved.',
  },
  'reseller.application_withdrawn': {
    subject: 'You withdrew your reseller application',
    text: 'Your reseller application is withdrawn. You may apply again at any time.',
  },
  'reseller.suspended': {
    subject: 'Your reseller account is suspended',
    text: 'Your reseller account is suspended: it takes no new orders. Orders already open can still be completed or resolved.',
  },
  'reseller.reinstated': {
    subject: 'Your reseller account is active again',
    text: 'Your reseller account is reinstated and takes orders again.',
  },
  'reseller.revoked': {
    subject: 'Your reseller account is closed',
    text: 'Your place in the reseller program has been revoked. Orders already open can still be completed or resolved.',
  },
  'reseller.renewed': {
    subject: 'Your reseller vetting is renewed',
    text: 'An admin completed your periodic re-vetting; your reseller account stays in the program.',
  },
};

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
function orderStepMail(to: string, role: 'buyer' | 'reseller', order: ResellerOrder, note: string | null): Email {
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

/** The program's emails, queued in the caller's transaction (outbox): to applicants and resellers, and to both sides of an order. */
@Injectable()
export class ResellerMailer {
  constructor(
    private readonly identity: IdentityService,
    private readonly mail: MailService,
  ) {}

  async send(em: EntityManager, userId: string, kind: ResellerMailKind, data: Record<string, unknown>): Promise<void> {
    const user = await this.identity.getUser(userId, em);
    await this.mail.send(em, { to: user.email, ...TEXT[kind], data: { kind, ...data } });
  }

  /** A step of a reseller order, to its buyer and its reseller. */
  async orderStep(em: EntityManager, order: ResellerOrder, note: string | null): Promise<void> {
    const users = await this.identity.findUsers(em, [order.buyerId, order.resellerId]);
    for (const [userId, role] of [
      [order.buyerId, 'buyer'],
      [order.resellerId, 'reseller'],
    ] as const) {
      const user = users.get(userId);
      if (user) await this.mail.send(em, orderStepMail(user.email, role, order, note));
    }
  }
}
