import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import { Clock } from '../../common/clock.service';
import { IdempotencyService, IdempotentReplay, IdempotentRequest } from '../../common/idempotency/idempotency.service';
import { addHours } from '../../common/time';
import { AppConfig } from '../../config/app-config';
import { TransactionRunner } from '../../database/transaction-runner';
import { FraudService } from '../../fraud/fraud.service';
import { LedgerService } from '../../ledger/ledger.service';
import { DisputeResellerOrderDto, ResellerOrderView, ResolveResellerOrderDto } from '../dto/reseller-orders.dto';
import { assertParty } from './order-parties.policy';
import { bondPayoutEntry, deliveryEntry, inEscrow, returnEntry } from './reseller-order-entries';
import { OrderActor, ResellerOrderSteps, SYSTEM, toOrderView } from './reseller-order-steps.service';
import { ResellerOrder, ResellerOrdersRepository } from './reseller-orders.repository';
import { ResellerStatusService } from '../lifecycle/reseller-status.service';
import { ResellersErrors } from '../resellers.errors';
import { ScorecardService } from '../scorecard/scorecard.service';
import { lossSuspensionReason } from '../lifecycle/loss-suspension.policy';

/**
 * Disputes of reseller orders and their resolution by an admin (docs/resellers.md "Disputes"). A buyer
 * disputes a paid order, or a confirmed one within RESELLER_DISPUTE_WINDOW_HOURS of the confirmation
 * (once); a paid order left unconfirmed becomes a dispute by itself (ResellerOrderJobs). Resolved to
 * the buyer: credits still in escrow go to the buyer's wallet; credits already delivered (confirmed,
 * then disputed) are paid to the buyer again from the reseller's bond, what the bond lacks becoming the
 * reseller's debt; the reseller gets a `dispute_lost` fraud label, and is suspended at once when its
 * scorecard now crosses a loss threshold (loss-suspension.policy.ts). Resolved to the reseller: escrowed
 * credits go back to its stock, otherwise nothing moves.
 */
@Injectable()
export class OrderDisputesService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly idempotency: IdempotencyService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly ledger: LedgerService,
    private readonly fraud: FraudService,
    private readonly audit: AuditService,
    private readonly steps: ResellerOrderSteps,
    private readonly orders: ResellerOrdersRepository,
    private readonly scorecards: ScorecardService,
    private readonly status: ResellerStatusService,
  ) {}

  async dispute(buyerId: string, orderId: string, dto: DisputeResellerOrderDto): Promise<ResellerOrderView> {
    return this.tx.run(async (em) => {
      const order = await this.steps.lock(em, orderId);
      const actor = assertParty(order, buyerId, 'buyer', 'dispute');
      const status = this.steps.next(order, 'dispute');
      const now = this.clock.now();
      if (order.status === 'confirmed') {
        if (order.disputedAt) throw ResellersErrors.alreadyDisputed();
        const until = addHours(order.confirmedAt!, this.config.resellers.disputeWindowHours);
        if (now >= until) throw ResellersErrors.disputeWindowClosed(until);
      }
      return toOrderView(await this.open(em, order, status, actor, dto.reason, now));
    });
  }

  /** Opens the dispute on a locked order (the buyer's, or the system's for an order left unconfirmed or a refused confirmation). */
  async open(em: EntityManager, order: ResellerOrder, status: ResellerOrder['status'], actor: OrderActor, reason: string, now: Date) {
    return this.steps.step(
      em,
      order,
      {
        ...order,
        status,
        disputeReason: order.disputeReason ?? reason,
        disputeOpenedBy: order.disputeOpenedByRole ? order.disputeOpenedBy : actor.role === 'buyer' ? actor.id : null,
        disputeOpenedByRole: order.disputeOpenedByRole ?? (actor.role === 'buyer' ? 'buyer' : 'system'),
        disputedAt: order.disputedAt ?? now,
        closedAt: null,
      },
      actor,
      reason,
    );
  }

  /** Opens a dispute in the system's name (jobs, refused confirmations). */
  openBySystem(em: EntityManager, order: ResellerOrder, action: 'dispute' | 'reject_confirm', reason: string, actor: OrderActor = SYSTEM) {
    return this.open(em, order, this.steps.next(order, action), actor, reason, this.clock.now());
  }

  /** POST /admin/reseller-orders/:id/resolve: decided once, audited. */
  async resolve(
    adminId: string,
    orderId: string,
    dto: ResolveResellerOrderDto,
    request: IdempotentRequest,
  ): Promise<ResellerOrderView | IdempotentReplay> {
    return this.idempotency.run(request, async (em) => {
      const order = await this.steps.lock(em, orderId);
      if (order.buyerId === adminId || order.resellerId === adminId) throw ResellersErrors.ownOrder();
      const status = this.steps.next(order, dto.outcome === 'buyer' ? 'resolve_buyer' : 'resolve_reseller');
      const escrowed = inEscrow(order);
      let bondPaid = 0n;
      let debtAdded = 0n;
      if (dto.outcome === 'buyer' && escrowed) await this.ledger.post(em, deliveryEntry(order, 'resolved_buyer'));
      if (dto.outcome === 'buyer' && !escrowed) {
        const debit = await this.ledger.debitInOrder(em, {
          userId: order.resellerId,
          asset: 'CREDIT',
          from: ['bond'],
          amount: order.amount,
          allowShortfall: true,
        });
        await this.ledger.post(em, bondPayoutEntry(order, debit.postings, debit.shortfall), debit.locked);
        bondPaid = order.amount - debit.shortfall;
        debtAdded = debit.shortfall;
      }
      if (dto.outcome === 'reseller' && escrowed) await this.ledger.post(em, returnEntry(order, 'resolved_reseller'));
      if (dto.outcome === 'buyer') {
        await this.fraud.recordLabel(em, {
          userId: order.resellerId,
          kind: 'dispute_lost',
          reference: `reseller_order:${order.id}:dispute_lost`,
          subjectId: order.id,
          data: { orderId: order.id, buyerId: order.buyerId, amount: order.amount.toString() },
        });
      }
      const resolved = await this.steps.step(
        em,
        order,
        { ...order, status, resolutionNote: dto.note, resolvedBy: adminId, bondPaid, debtAdded, closedAt: this.clock.now() },
        { id: adminId, role: 'admin' },
        dto.note,
        { outcome: dto.outcome, fromEscrow: escrowed, bondPaid: bondPaid.toString(), debtAdded: debtAdded.toString() },
      );
      if (dto.outcome === 'buyer') await this.suspendOnLosses(em, order.resellerId);
      await this.audit.record(em, {
        actorId: adminId,
        action: 'reseller_order.resolved',
        subjectType: 'reseller_order',
        subjectId: order.id,
        reason: dto.note,
        data: {
          outcome: dto.outcome,
          resellerId: order.resellerId,
          buyerId: order.buyerId,
          amount: order.amount.toString(),
          bondPaid: bondPaid.toString(),
        },
      });
      return toOrderView(resolved);
    });
  }

  /**
   * Checked when a dispute is lost, so that a reseller reinstated after an admin looked at its losses is
   * suspended again only by a new one.
   */
  private async suspendOnLosses(em: EntityManager, resellerId: string): Promise<void> {
    const card = await this.scorecards.forReseller(em, resellerId, this.clock.now());
    const reason = lossSuspensionReason(card, this.config.resellers);
    if (reason) await this.status.suspendAutomatically(em, resellerId, reason);
  }
}
