import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AccountGuardService } from '../account-guard/account-guard.service';
import { LoginScreens, LoginVerdict, ScreenedLogin } from '../account-guard/login-screens';
import { TransactionRunner } from '../database/transaction-runner';
import { ClientContext, IdentityHooks, UserRecord } from '../identity/identity.hooks';
import { FraudErrors } from './fraud.errors';
import { FraudService } from './fraud.service';
import { Review } from './reviews.repository';
import { ReviewsService } from './reviews.service';

/** The account hold a sign-up under review carries until an admin decides it. */
const reviewHold = (userId: string) => `fraud_review:${userId}`;
/** The account hold a rejected sign-up keeps for good (until an admin releases it by hand). */
const rejectedHold = (userId: string) => `fraud_rejected:${userId}`;

/**
 * The fraud rules on sign-ups and logins, plugged into the seams of the modules below fraud: identity's
 * `userRegistered` (in the registration transaction) and the account guard's login screens.
 *
 * signup: BLOCK refuses it (403, the registration rolls back; the decision is kept beside it); REVIEW
 * creates the account on a system account hold (`fraud_review:<userId>`), so it can neither buy, spend
 * nor move value, its sign-up bonus included, until the review is decided: approved releases the hold;
 * rejected places `fraud_rejected:<userId>` and releases the review's hold, so the account stays held
 * and its hold says why.
 *
 * login: decided in a transaction of its own (the assessment runs outside one); REVIEW asks for the
 * account guard's step-up, BLOCK refuses the login. No review case is opened for logins.
 */
@Injectable()
export class AccountEventsListener implements OnModuleInit {
  constructor(
    private readonly hooks: IdentityHooks,
    private readonly screens: LoginScreens,
    private readonly guard: AccountGuardService,
    private readonly fraud: FraudService,
    private readonly reviews: ReviewsService,
    private readonly tx: TransactionRunner,
  ) {}

  onModuleInit(): void {
    this.hooks.subscribe({ userRegistered: (em, user, ctx) => this.signup(em, user, ctx) });
    this.screens.use((login) => this.login(login));
    this.reviews.handle('signup', {
      approve: (em, review, adminId) => this.releaseReviewHold(em, review, adminId, 'Sign-up approved in fraud review'),
      reject: async (em, review, adminId) => {
        await this.guard.placeSystemHold(em, {
          userId: review.userId,
          reference: rejectedHold(review.userId),
          reason: 'Sign-up rejected in fraud review',
          actorId: adminId,
        });
        await this.releaseReviewHold(em, review, adminId, 'Sign-up rejected in fraud review');
      },
    });
  }

  private async signup(em: EntityManager, user: UserRecord, ctx: ClientContext): Promise<void> {
    const decision = await this.fraud.evaluate(em, {
      type: 'signup',
      userId: user.id,
      subjectId: user.id,
      email: user.email,
      ip: ctx.ip,
      ipCountry: ctx.ipCountry ?? null,
    });
    if (decision.outcome === 'BLOCK') throw FraudErrors.blocked();
    if (decision.outcome === 'REVIEW') {
      await this.guard.placeSystemHold(em, { userId: user.id, reference: reviewHold(user.id), reason: 'Sign-up held for fraud review' });
    }
  }

  private async login(login: ScreenedLogin): Promise<LoginVerdict> {
    const decision = await this.tx.run((em) =>
      this.fraud.evaluate(em, {
        type: 'login',
        userId: login.user.id,
        subjectId: login.attemptId,
        ip: login.attempt.ip,
        ipCountry: login.attempt.ipCountry ?? null,
        login: { deviceIsNew: login.deviceIsNew, networkIsNew: login.networkIsNew, deviceId: login.deviceId },
      }),
    );
    return decision.outcome;
  }

  private async releaseReviewHold(em: EntityManager, review: Review, adminId: string, reason: string): Promise<void> {
    await this.guard.releaseSystemHold(em, { userId: review.userId, reference: reviewHold(review.userId), reason, actorId: adminId });
  }
}
