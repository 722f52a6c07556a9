import { EXAMPLE_ID, PageOf } from '../../common/api-docs';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { amountToJson } from '../../common/money';
import type { Review } from '../../fraud/reviews.repository';
import type { ApplicationStatus } from '../vetting/application-state';
import type { Application } from '../vetting/applications.repository';
import type { CheckReport } from '../vetting/check-report';
import type { Standing } from '../reseller-standing.policy';
import type { ResellerStatus } from '../reseller-state';
import type { Reseller } from '../resellers.repository';
import { APPLICATION_STATUSES, RESELLER_STATUSES } from './applications.dto';

/** An application as its applicant sees it: no check report, no admins' notes. */
export class ApplicationView {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ enum: APPLICATION_STATUSES }) status: ApplicationStatus;
  @ApiProperty() businessName: string;
  @ApiProperty({ type: [String] }) regions: string[];
  @ApiProperty({ type: [String] }) paymentMethods: string[];
  @ApiProperty({ type: 'integer' }) expectedMonthlyVolume: number;
  @ApiProperty() contact: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
  @ApiPropertyOptional({ nullable: true, type: String }) decidedAt: string | null;
}

/** GET /reseller-applications/me: the latest application, the earlier ones, and the reseller status it led to. */
export class MyApplicationView extends ApplicationView {
  @ApiPropertyOptional({ nullable: true, enum: RESELLER_STATUSES, description: 'null until an application is approved' })
  resellerStatus: ResellerStatus | null;
  @ApiProperty({ type: [ApplicationView], description: 'earlier applications, latest first' }) earlier: ApplicationView[];
}

export class FraudReviewRef {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ enum: ['open', 'approved', 'rejected'] }) status: string;
}

/** An application as admins vet it: with the automated check report, the approvals and the fraud review. */
export class AdminApplicationView extends ApplicationView {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) userId: string;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'uuid' }) fraudDecisionId: string | null;
  @ApiPropertyOptional({ nullable: true, type: FraudReviewRef }) fraudReview: FraudReviewRef | null;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'uuid' }) firstApprovedBy: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) firstApprovalNote: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) firstApprovedAt: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'uuid' }) decidedBy: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) decisionNote: string | null;
  @ApiPropertyOptional({ type: Object, description: 'list items leave it out; GET /admin/reseller-applications/:id has it' })
  checkReport?: CheckReport;
}

export class StandingView {
  @ApiProperty({ description: 'whether the reseller takes new orders now' }) takingOrders: boolean;
  @ApiProperty({ description: 'within the probation after approval (lower limits)' }) probation: boolean;
  @ApiPropertyOptional({ nullable: true, enum: ['not_active', 'vetting_overdue'] }) reason: 'not_active' | 'vetting_overdue' | null;
  @ApiPropertyOptional({ type: 'integer', nullable: true }) orderMax: number | null;
  @ApiPropertyOptional({ type: 'integer', nullable: true }) dailyMax: number | null;
}

export class ResellerView {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID, description: 'the reseller is its user: the same id' }) id: string;
  @ApiProperty({ enum: RESELLER_STATUSES }) status: ResellerStatus;
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) applicationId: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ type: [String] }) regions: string[];
  @ApiProperty({ type: [String] }) paymentMethods: string[];
  @ApiProperty() approvedAt: string;
  @ApiProperty() probationEndsAt: string;
  @ApiProperty() vettingDueAt: string;
  @ApiPropertyOptional({ nullable: true, type: String }) lastOrderAt: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) statusReason: string | null;
  @ApiProperty() statusChangedAt: string;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'uuid', description: 'null: the system (automatic suspension)' })
  statusChangedBy: string | null;
  @ApiProperty({ type: StandingView }) standing: StandingView;
}

export const ApplicationPage = PageOf(AdminApplicationView, 'ApplicationPage');
export const ResellerPage = PageOf(ResellerView);

const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

export function applicationView(a: Application): ApplicationView {
  return {
    id: a.id,
    status: a.status,
    businessName: a.businessName,
    regions: a.regions,
    paymentMethods: a.paymentMethods,
    expectedMonthlyVolume: amountToJson(a.expectedMonthlyVolume),
    contact: a.contact,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
    decidedAt: iso(a.decidedAt),
  };
}

export function adminApplicationView(a: Application, review: Review | undefined, withReport: boolean): AdminApplicationView {
  return {
    ...applicationView(a),
    userId: a.userId,
    fraudDecisionId: a.fraudDecisionId,
    fraudReview: review ? { id: review.id, status: review.status } : null,
    firstApprovedBy: a.firstApprovedBy,
    firstApprovalNote: a.firstApprovalNote,
    firstApprovedAt: iso(a.firstApprovedAt),
    decidedBy: a.decidedBy,
    decisionNote: a.decisionNote,
    ...(withReport ? { checkReport: a.checkReport } : {}),
  };
}

/** The standing (standingOf) as JSON; `probation` is shown whether or not the reseller takes orders now. */
export function standingView(s: Standing, probation: boolean): StandingView {
  return s.mayTakeOrders
    ? { takingOrders: true, probation, reason: null, orderMax: amountToJson(s.orderMax), dailyMax: amountToJson(s.dailyMax) }
    : { takingOrders: false, probation, reason: s.reason, orderMax: null, dailyMax: null };
}

export function resellerView(r: Reseller, standing: Standing, now: Date): ResellerView {
  return {
    id: r.userId,
    status: r.status,
    applicationId: r.applicationId,
    displayName: r.displayName,
    regions: r.regions,
    paymentMethods: r.paymentMethods,
    approvedAt: r.approvedAt.toISOString(),
    probationEndsAt: r.probationEndsAt.toISOString(),
    vettingDueAt: r.vettingDueAt.toISOString(),
    lastOrderAt: iso(r.lastOrderAt),
    statusReason: r.statusReason,
    statusChangedAt: r.statusChangedAt.toISOString(),
    statusChangedBy: r.statusChangedBy,
    standing: standingView(standing, now < r.probationEndsAt),
  };
}
