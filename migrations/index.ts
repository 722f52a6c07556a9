import { Foundation1763900000000 } from './1763900000000-Foundation';
import { Identity1763900001000 } from './1763900001000-Identity';
import { Ledger1763900002000 } from './1763900002000-Ledger';
import { AccountGuard1763900003000 } from './1763900003000-AccountGuard';
import { Payments1763900004000 } from './1763900004000-Payments';
import { Catalog1763900005000 } from './1763900005000-Catalog';
import { Orders1763900006000 } from './1763900006000-Orders';
import { AccountGuardSystemHolds1763900007000 } from './1763900007000-AccountGuardSystemHolds';
import { LedgerIndexedChecks1763900008000 } from './1763900008000-LedgerIndexedChecks';
import { LedgerEntriesKindIndexDropped1763900009000 } from './1763900009000-LedgerEntriesKindIndexDropped';
import { LedgerLockFindRead1763900010000 } from './1763900010000-LedgerLockFindRead';
import { LedgerBalancedCheckOneAggregate1763900012000 } from './1763900012000-LedgerBalancedCheckOneAggregate';
import { LedgerDirectCreditsDropped1763900013000 } from './1763900013000-LedgerDirectCreditsDropped';
import { Fraud1763900014000 } from './1763900014000-Fraud';
import { PaymentsFraud1763900015000 } from './1763900015000-PaymentsFraud';
import { OrdersFraudReview1763900016000 } from './1763900016000-OrdersFraudReview';
import { DeviceClusters1763900017000 } from './1763900017000-DeviceClusters';
import { FraudDecisionsUncompressed1763900019000 } from './1763900019000-FraudDecisionsUncompressed';
import { Resellers1763900020000 } from './1763900020000-Resellers';
import { PaymentsWholesale1763900021000 } from './1763900021000-PaymentsWholesale';
import { ResellerOrders1763900022000 } from './1763900022000-ResellerOrders';
import { ResellerVettingReads1763900023000 } from './1763900023000-ResellerVettingReads';
import { AdminListIndexes1763900024000 } from './1763900024000-AdminListIndexes';
import { UuidIds1763900025000 } from './1763900025000-UuidIds';
import { LedgerOneStatementPost1763900028000 } from './1763900028000-LedgerOneStatementPost';
import { EconomyReport1763900029000 } from './1763900029000-EconomyReport';
import { EconomyReportPairStatistics1763900029500 } from './1763900029500-EconomyReportPairStatistics';
import { EconomyRollups1763900031000 } from './1763900031000-EconomyRollups';
import { EconomyRollupsSaleLines1763900031500 } from './1763900031500-EconomyRollupsSaleLines';
import { EconomyRollupsItemGifts1763900031700 } from './1763900031700-EconomyRollupsItemGifts';
import { SandboxStripeShared1763900030000 } from './1763900030000-SandboxStripeShared';
import { SecretFingerprints1763900030500 } from './1763900030500-SecretFingerprints';

/** Every migration, in order. Add new ones at the end (TypeORM runs them by timestamp). */
export const allMigrations = [
  Foundation1763900000000,
  Identity1763900001000,
  Ledger1763900002000,
  AccountGuard1763900003000,
  Payments1763900004000,
  Catalog1763900005000,
  Orders1763900006000,
  AccountGuardSystemHolds1763900007000,
  LedgerIndexedChecks1763900008000,
  LedgerEntriesKindIndexDropped1763900009000,
  LedgerLockFindRead1763900010000,
  LedgerBalancedCheckOneAggregate1763900012000,
  LedgerDirectCreditsDropped1763900013000,
  Fraud1763900014000,
  PaymentsFraud1763900015000,
  OrdersFraudReview1763900016000,
  DeviceClusters1763900017000,
  FraudDecisionsUncompressed1763900019000,
  Resellers1763900020000,
  PaymentsWholesale1763900021000,
  ResellerOrders1763900022000,
  ResellerVettingReads1763900023000,
  AdminListIndexes1763900024000,
  UuidIds1763900025000,
  LedgerOneStatementPost1763900028000,
  EconomyReport1763900029000,
  EconomyReportPairStatistics1763900029500,
  SandboxStripeShared1763900030000,
  SecretFingerprints1763900030500,
  EconomyRollups1763900031000,
  EconomyRollupsSaleLines1763900031500,
  EconomyRollupsItemGifts1763900031700,
];
