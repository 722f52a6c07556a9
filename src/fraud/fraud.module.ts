import { Module } from '@nestjs/common';
import { AccountGuardModule } from '../account-guard/account-guard.module';
import { IdentityModule } from '../identity/identity.module';
import { AccountEventsListener } from './account-events.listener';
import { AccountFlagsRepository } from './account-flags.repository';
import { AdminFraudDecisionsController } from './admin-fraud-decisions.controller';
import { AdminFraudLabelsController } from './admin-fraud-labels.controller';
import { AdminFraudListsController } from './admin-fraud-lists.controller';
import { AdminFraudReviewsController } from './admin-fraud-reviews.controller';
import { AdminFraudRulesController } from './admin-fraud-rules.controller';
import { DecisionsService } from './decisions.service';
import { AdminFraudBacktestController } from './admin-fraud-backtest.controller';
import { BacktestRepository } from './backtest.repository';
import { BacktestService } from './backtest.service';
import { DecisionsRepository } from './decisions.repository';
import { FeaturesService } from './features.service';
import { FraudService } from './fraud.service';
import { LabelsRepository } from './labels.repository';
import { LabelsService } from './labels.service';
import { ListsRepository } from './lists.repository';
import { ListsService } from './lists.service';
import { ReviewsRepository } from './reviews.repository';
import { ReviewsService } from './reviews.service';
import { RuleAdminService } from './rule-admin.service';
import { RulesRepository } from './rules.repository';
import { RulesService } from './rules.service';

/**
 * The fraud rules engine (docs/fraud.md): features, versioned rules, lists, decisions, the review
 * queue, labels and backtests. Other modules call `FraudService.evaluate` in their transaction and
 * register how their reviews finish with `ReviewsService.handle`.
 */
@Module({
  imports: [IdentityModule, AccountGuardModule],
  controllers: [
    AdminFraudRulesController,
    AdminFraudListsController,
    AdminFraudLabelsController,
    AdminFraudDecisionsController,
    AdminFraudReviewsController,
    AdminFraudBacktestController,
  ],
  providers: [
    AccountFlagsRepository,
    DecisionsRepository,
    LabelsRepository,
    ListsRepository,
    ReviewsRepository,
    RulesRepository,
    FeaturesService,
    RulesService,
    ReviewsService,
    FraudService,
    AccountEventsListener,
    RuleAdminService,
    ListsService,
    LabelsService,
    DecisionsService,
    BacktestRepository,
    BacktestService,
  ],
  exports: [FraudService, ReviewsService],
})
export class FraudModule {}
