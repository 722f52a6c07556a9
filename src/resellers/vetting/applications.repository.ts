import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../../database/sql';
import type { ApplicationStatus } from './application-state';
import type { CheckReport } from './check-report';

type Db = EntityManager | DataSource;

export interface Application {
  id: string;
  userId: string;
  status: ApplicationStatus;
  businessName: string;
  regions: string[];
  paymentMethods: string[];
  expectedMonthlyVolume: bigint;
  contact: string;
  checkReport: CheckReport;
  fraudDecisionId: string | null;
  firstApprovedBy: string | null;
  firstApprovalNote: string | null;
  firstApprovedAt: Date | null;
  decidedBy: string | null;
  decisionNote: string | null;
  decidedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewApplication = Pick<
  Application,
  | 'id'
  | 'userId'
  | 'businessName'
  | 'regions'
  | 'paymentMethods'
  | 'expectedMonthlyVolume'
  | 'contact'
  | 'checkReport'
  | 'fraudDecisionId'
  | 'createdAt'
>;

interface ApplicationRow {
  id: string;
  user_id: string;
  status: ApplicationStatus;
  business_name: string;
  regions: string[];
  payment_methods: string[];
  expected_monthly_volume: string;
  contact: string;
  check_report: CheckReport;
  fraud_decision_id: string | null;
  first_approved_by: string | null;
  first_approval_note: string | null;
  first_approved_at: Date | null;
  decided_by: string | null;
  decision_note: string | null;
  decided_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const toApplication = (r: ApplicationRow): Application => ({
  id: r.id,
  userId: r.user_id,
  status: r.status,
  businessName: r.business_name,
  regions: r.regions,
  paymentMethods: r.payment_methods,
  expectedMonthlyVolume: BigInt(r.expected_monthly_volume),
  contact: r.contact,
  checkReport: r.check_report,
  fraudDecisionId: r.fraud_decision_id,
  firstApprovedBy: r.first_approved_by,
  firstApprovalNote: r.first_approval_note,
  firstApprovedAt: r.first_approved_at,
  decidedBy: r.decided_by,
  decisionNote: r.decision_note,
  decidedAt: r.decided_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface ApplicationListQuery {
  status: ApplicationStatus | null;
  /** (created_at, id) of the last item of the page before: oldest first, as a queue. */
  after: { createdAt: string; id: string } | null;
  limit: number;
}

/** `reseller_applications`: one row per application; its status moves only along the lifecycle's edges (trigger). */
@Injectable()
export class ApplicationsRepository {
  /** Throws PostgreSQL's unique violation (reseller_applications_one_open) when the user has one in progress. */
  async insert(em: EntityManager, a: NewApplication): Promise<Application> {
    const [row] = await queryRows<ApplicationRow>(
      em,
      `INSERT INTO reseller_applications (id, user_id, status, business_name, regions, payment_methods, expected_monthly_volume, contact,
                                          check_report, fraud_decision_id, created_at, updated_at)
       VALUES ($1, $2, 'submitted', $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $10) RETURNING *`,
      [
        a.id,
        a.userId,
        a.businessName,
        a.regions,
        a.paymentMethods,
        a.expectedMonthlyVolume.toString(),
        a.contact,
        JSON.stringify(a.checkReport),
        a.fraudDecisionId,
        a.createdAt,
      ],
    );
    return toApplication(row);
  }

  async find(db: Db, id: string): Promise<Application | undefined> {
    const [row] = await queryRows<ApplicationRow>(db, 'SELECT * FROM reseller_applications WHERE id = $1', [id]);
    return row && toApplication(row);
  }

  /** Reads the application and locks it until `em`'s transaction ends (decisions on one application serialize). */
  async lock(em: EntityManager, id: string): Promise<Application | undefined> {
    const [row] = await queryRows<ApplicationRow>(em, 'SELECT * FROM reseller_applications WHERE id = $1 FOR UPDATE', [id]);
    return row && toApplication(row);
  }

  /** The user's applications, latest first. */
  async ofUser(db: Db, userId: string): Promise<Application[]> {
    const rows = await queryRows<ApplicationRow>(
      db,
      'SELECT * FROM reseller_applications WHERE user_id = $1 ORDER BY created_at DESC, id DESC',
      [userId],
    );
    return rows.map(toApplication);
  }

  async list(db: Db, q: ApplicationListQuery): Promise<Application[]> {
    const rows = await queryRows<ApplicationRow>(
      db,
      `SELECT * FROM reseller_applications
        WHERE ($1::text IS NULL OR status = $1) AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))
        ORDER BY created_at, id LIMIT $4`,
      [q.status, q.after?.createdAt ?? null, q.after?.id ?? null, q.limit],
    );
    return rows.map(toApplication);
  }

  async firstApprove(em: EntityManager, id: string, adminId: string, note: string, now: Date): Promise<Application> {
    const [row] = await queryRows<ApplicationRow>(
      em,
      `UPDATE reseller_applications SET status = 'awaiting_second_approval', first_approved_by = $2, first_approval_note = $3,
              first_approved_at = $4, updated_at = $4
        WHERE id = $1 RETURNING *`,
      [id, adminId, note, now],
    );
    return toApplication(row);
  }

  /** The final decision: approved or rejected by an admin, or withdrawn by the applicant (no decider). */
  async decide(
    em: EntityManager,
    id: string,
    status: 'approved' | 'rejected' | 'withdrawn',
    adminId: string | null,
    note: string | null,
    now: Date,
  ): Promise<Application> {
    const [row] = await queryRows<ApplicationRow>(
      em,
      `UPDATE reseller_applications SET status = $2, decided_by = $3, decision_note = $4, decided_at = $5, updated_at = $5
        WHERE id = $1 RETURNING *`,
      [id, status, adminId, note, now],
    );
    return toApplication(row);
  }
}
