import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.service';
import { amountToJson } from '../../common/money';
import { OrderEventView, ResellerOrderView } from '../dto/reseller-orders.dto';
import { OrderActorRole, ResellerOrderAction, resellerOrderMachine } from './reseller-order-state';
import { OrderEvent, ResellerOrder, ResellerOrdersRepository } from './reseller-orders.repository';
import { ResellersErrors } from '../resellers.errors';
import { ResellerMailer } from '../resellers.mails';

export interface OrderActor {
  id: string | null;
  role: OrderActorRole;
}

export const SYSTEM: OrderActor = { id: null, role: 'system' };

/**
 * What every step of a reseller order does besides its own effect, in the step's transaction: the
 * edge checked against the state machine, the row written, a history event, and an email to both
 * sides (outbox).
 */
@Injectable()
export class ResellerOrderSteps {
  constructor(
    private readonly clock: Clock,
    private readonly mailer: ResellerMailer,
    private readonly orders: ResellerOrdersRepository,
  ) {}

  /** Locks the order's row; 404 when there is none. */
  async lock(em: EntityManager, id: string): Promise<ResellerOrder> {
    const order = await this.orders.lock(em, id);
    if (!order) throw ResellersErrors.orderNotFound();
    return order;
  }

  /** The next state for `action`, or 409 INVALID_STATE. */
  next(order: ResellerOrder, action: ResellerOrderAction) {
    return resellerOrderMachine.next(order.status, action);
  }

  /** Writes `after` (an edge from `before`), its event and both emails. */
  async step(
    em: EntityManager,
    before: ResellerOrder,
    after: ResellerOrder,
    actor: OrderActor,
    note: string | null = null,
    data: Record<string, unknown> = {},
  ): Promise<ResellerOrder> {
    const saved = await this.orders.save(em, { ...after, updatedAt: this.clock.now() });
    await this.record(em, saved, before.status, actor, note, data);
    return saved;
  }

  /** The first event and emails of a new order. */
  async opened(em: EntityManager, order: ResellerOrder, actor: OrderActor, data: Record<string, unknown> = {}): Promise<void> {
    await this.record(em, order, null, actor, null, data);
  }

  private async record(
    em: EntityManager,
    order: ResellerOrder,
    from: ResellerOrder['status'] | null,
    actor: OrderActor,
    note: string | null,
    data: Record<string, unknown>,
  ): Promise<void> {
    await this.orders.insertEvent(em, {
      orderId: order.id,
      at: this.clock.now(),
      fromStatus: from,
      toStatus: order.status,
      actorId: actor.id,
      actorRole: actor.role,
      note,
      data,
    });
    await this.mailer.orderStep(em, order, note);
  }
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function toOrderView(o: ResellerOrder): ResellerOrderView {
  return {
    id: o.id,
    status: o.status,
    resellerId: o.resellerId,
    buyerId: o.buyerId,
    amount: amountToJson(o.amount),
    paymentReference: o.paymentReference,
    cancelReason: o.cancelReason,
    cancelledBy: o.cancelledByRole,
    disputeReason: o.disputeReason,
    disputeOpenedBy: o.disputeOpenedByRole,
    resolutionNote: o.resolutionNote,
    bondPaid: amountToJson(o.bondPaid),
    debtAdded: amountToJson(o.debtAdded),
    openedAt: o.openedAt.toISOString(),
    expiresAt: o.expiresAt.toISOString(),
    paidAt: iso(o.paidAt),
    confirmDueAt: iso(o.confirmDueAt),
    confirmedAt: iso(o.confirmedAt),
    disputedAt: iso(o.disputedAt),
    closedAt: iso(o.closedAt),
  };
}

export const toEventView = (e: OrderEvent): OrderEventView => ({
  at: e.at.toISOString(),
  fromStatus: e.fromStatus,
  toStatus: e.toStatus,
  actorId: e.actorId,
  actorRole: e.actorRole,
  note: e.note,
  data: e.data,
});
