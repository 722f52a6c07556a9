import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { AuthUser } from '../../common/auth.decorators';
import { Clock } from '../../common/clock.service';
import { AppError } from '../../common/errors';
import { IdempotencyService, IdempotentReplay, IdempotentRequest } from '../../common/idempotency/idempotency.service';
import { TransactionRunner } from '../../database/transaction-runner';
import { FraudErrors } from '../../fraud/fraud.errors';
import { FraudService } from '../../fraud/fraud.service';
import type { FraudAction, FraudEventType } from '../../fraud/fraud.types';
import { ReviewsService } from '../../fraud/reviews.service';
import { PaymentsErrors } from '../payments.errors';
import { PurchaseDestination, requestEventOf } from '../purchases/purchase-destination';
import type { PurchaseTerms } from '../purchases/purchase-terms';
import type { FraudRefusal, PurchaseRecord } from '../purchases/purchase.record';
import type { ChargeDetails } from '../stripe/stripe.gateway';
import { ScreeningsRepository } from './screenings.repository';
import { sideBySide } from '../../database/side-by-side';

/** Where a purchase request came from, as the fraud rules read it. */
export interface PurchaseClient {
  ip: string;
  /** ISO 3166 alpha-2, from the edge's header (FRAUD_IP_COUNTRY_HEADER); null when unknown. */
  ipCountry: string | null;
}

/** What the checks make of a payment seen succeeding: refused, or minted (held while a review is open). */
export type PaymentVerdict = { refusal: FraudRefusal } | { refusal: null; hold: boolean };

/** Where a purchase's reviews stand, both event types together: any rejected refuses it, any open holds it. */
export type ReviewState = 'rejected' | 'open' | 'clear';

/** The event types whose reviews are about a purchase of this destination. */
const reviewedTypes = (destination: PurchaseDestination): FraudEventType[] => [requestEventOf(destination), 'payment_succeeded'];

/**
 * The fraud checks of token purchases: on the request, before the PaymentIntent (`token_purchase`, or
 * `wholesale_purchase` for a purchase into reseller stock: `requestEventOf`), and `payment_succeeded`
 * when the signed webhook first reports the payment good (with Stripe's card and Radar facts; the
 * request's address, country and device come from the first check). A purchase can have a review
 * case of each type (the engine opens one per REVIEW decision and event type); they are read together
 * (`reviewState`).
 */
@Injectable()
export class PurchaseScreeningService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly idempotency: IdempotencyService,
    private readonly fraud: FraudService,
    private readonly reviews: ReviewsService,
    private readonly screenings: ScreeningsRepository,
  ) {}

  /**
   * The request's check, in a short transaction of its own holding the request's
   * Idempotency-Key (held by another request: IDEMPOTENCY_IN_PROGRESS; completed: its replay), so the
   * decision is stored whatever Stripe does next. A request is decided once: a retry (after Stripe
   * failed, or of a refused request) finds the first check and gets the same answer, without counting
   * again towards the velocity rules; another package under the key is IDEMPOTENCY_KEY_REUSED.
   * BLOCK, or a review of the request already rejected, is 403 FRAUD_BLOCKED and nothing is created;
   * REVIEW goes ahead (the engine has opened the case on the purchase id).
   */
  async screenRequest(
    user: AuthUser,
    terms: PurchaseTerms,
    purchaseId: string,
    client: PurchaseClient,
    request: IdempotentRequest,
  ): Promise<IdempotentReplay | undefined> {
    const verdict = await this.tx.run(async (em): Promise<FraudAction | IdempotentReplay> => {
      const [claimed] = await this.idempotency.claim(em, [request]);
      if (claimed instanceof AppError) throw claimed;
      if (claimed) return claimed;
      const known = await this.screenings.find(em, purchaseId);
      if (known) {
        if (known.packageId !== terms.packageId) throw PaymentsErrors.idempotencyKeyReused();
        return known.outcome;
      }
      const decision = await this.fraud.evaluate(em, {
        type: requestEventOf(terms.destination),
        userId: user.id,
        subjectId: purchaseId,
        amount: terms.credits,
        amountCents: terms.priceCents,
        currency: terms.currency,
        ip: client.ip,
        ipCountry: client.ipCountry,
        sessionId: user.sessionId,
      });
      // Committed with a BLOCK too: the refusal of this request is what its retries answer.
      await this.screenings.insert(em, {
        purchaseId,
        userId: user.id,
        packageId: terms.packageId,
        decisionId: decision.id,
        outcome: decision.outcome,
        createdAt: this.clock.now(),
      });
      return decision.outcome;
    });
    if (verdict instanceof IdempotentReplay) return verdict;
    if (verdict === 'BLOCK') throw FraudErrors.blocked();
    if (verdict === 'REVIEW' && (await this.reviews.forSubject(requestEventOf(terms.destination), purchaseId))?.status === 'rejected') {
      throw FraudErrors.blocked();
    }
    return undefined;
  }

  /**
   * The `payment_succeeded` checks of purchases whose payment is seen good for the first time, in the
   * webhook's transaction under the purchases' row locks, decided in one evaluation (answers in
   * order). A purchase whose request review was rejected is refused without a new decision. A BLOCK
   * is recorded by the engine beside this transaction, which commits the refused purchase.
   */
  async screenPayments(em: EntityManager, paid: { p: PurchaseRecord; charge: ChargeDetails | null }[]): Promise<PaymentVerdict[]> {
    const requests = await sideBySide(paid.map(({ p }) => this.reviews.forSubject(requestEventOf(p.destination), p.id, em)));
    const open = paid.flatMap((x, i) => (requests[i]?.status === 'rejected' ? [] : [i]));
    const decisions = await this.fraud.evaluateMany(
      em,
      open.map((i) => {
        const { p, charge } = paid[i];
        return {
          type: 'payment_succeeded',
          userId: p.userId,
          subjectId: p.id,
          amount: p.credits,
          amountCents: p.priceCents,
          currency: p.currency,
          card: { fingerprint: charge?.cardFingerprint ?? p.cardFingerprint, country: charge?.cardCountry ?? p.cardCountry },
          riskScore: charge?.riskScore ?? p.riskScore,
          followsFrom: requestEventOf(p.destination),
        };
      }),
    );
    const verdicts: PaymentVerdict[] = requests.map(() => ({ refusal: 'rejected' }));
    open.forEach((i, k) => {
      const outcome = decisions[k].outcome;
      verdicts[i] =
        outcome === 'BLOCK' ? { refusal: 'blocked' } : { refusal: null, hold: outcome === 'REVIEW' || requests[i]?.status === 'open' };
    });
    return verdicts;
  }

  /**
   * The purchase's review cases taken together, leaving out `except` (the case being decided). Read
   * under the purchase's row lock, which every decision of these cases takes first, so it sees the
   * other case as its decision committed.
   */
  async reviewState(em: EntityManager, p: Pick<PurchaseRecord, 'id' | 'destination'>, except?: FraudEventType): Promise<ReviewState> {
    const cases = [];
    for (const type of reviewedTypes(p.destination).filter((t) => t !== except)) cases.push(await this.reviews.forSubject(type, p.id, em));
    if (cases.some((c) => c?.status === 'rejected')) return 'rejected';
    return cases.some((c) => c?.status === 'open') ? 'open' : 'clear';
  }
}
